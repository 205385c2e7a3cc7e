using System.Text.Json;
using Slacker.Images.Export;
using Slacker.Core.Model;

namespace Slacker.Bench.Build;

/// <summary>Remembers which blob a layer key produced, so a rebuild reuses the blob instead of re-tarring.</summary>
internal static class LayerCache
{
    public static LayerBlob? TryGet(BuildPaths paths, string key)
    {
        var path = paths.LayerRecord(key);
        if (!File.Exists(path))
        {
            return null;
        }

        var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), LayerCacheJsonContext.Default.LayerBlobRecord)!;
        var blob = new LayerBlob(Digest.Parse(record.Digest), Digest.Parse(record.DiffId), record.Size, record.UncompressedSize, record.Entries);
        return File.Exists(paths.Blob(blob.Digest)) && new FileInfo(paths.Blob(blob.Digest)).Length == blob.Size ? blob : null;
    }

    public static void Put(BuildPaths paths, string key, LayerBlob blob)
    {
        var path = paths.LayerRecord(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var record = new LayerBlobRecord(blob.Digest.ToString(), blob.DiffId.ToString(), blob.Size, blob.UncompressedSize, blob.Entries);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(record, LayerCacheJsonContext.Default.LayerBlobRecord));
        File.Move(temp, path, overwrite: true);
    }

    public static async Task<LayerBlob> GetOrWriteAsync(BuildPaths paths, string key, Func<Task<LayerBlob>> write)
    {
        if (TryGet(paths, key) is { } cached)
        {
            return cached;
        }

        var blob = await write();
        Put(paths, key, blob);
        return blob;
    }
}
