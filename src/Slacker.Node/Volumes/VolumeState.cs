using System.Text.Json;

namespace Slacker.Node.Volumes;

/// <summary>
/// What the node must remember about a volume across restarts: its geometry and the snapshot its local dirty
/// chunks apply to (the server's base can move under a commit from elsewhere; the node's dirty data stays
/// relative to this one).
/// </summary>
public sealed record VolumeState(string VolumeId, long Size, int ChunkSize, string? BaseSnapshot)
{
    public const string FileName = "state.json";

    public static VolumeState? Load(string volumeDirectory)
    {
        var path = Path.Combine(volumeDirectory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), NodeJsonContext.Default.VolumeState)
                ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid volume state ({e.Message}); move the volume directory away to re-attach from the server.", e);
        }
    }

    /// <summary>temp + fsync + rename + fsync(dir): the file is always either the old or the new state.</summary>
    public void Save(string volumeDirectory)
    {
        Directory.CreateDirectory(volumeDirectory);
        var path = Path.Combine(volumeDirectory, FileName);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, NodeJsonContext.Default.VolumeState);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        DirtyChunkStore.FsyncDirectory(volumeDirectory);
    }
}
