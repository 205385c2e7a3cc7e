namespace Slacker.Core.Api;

/// <summary>
/// The single layer of a Slacker-format OCI image: a small JSON document that names the snapshot holding the
/// flattened ext4 file system. Any OCI registry can carry it; the chunks stay on the Slacker server it names.
/// </summary>
public sealed record SlackerImageLayer(
    string Snapshot,
    int ChunkSize,
    long Size,
    string FileSystem = "ext4",
    bool Flattened = true,
    string? Server = null)
{
    public const string MediaType = "application/vnd.slacker.snapshot.v1+json";
    public const string ArtifactType = "application/vnd.slacker.image.v1";
}
