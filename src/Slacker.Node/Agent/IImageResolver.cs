using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

/// <summary>A Slacker-format image as the node runs it: the snapshot holding its flattened ext4, and its config.</summary>
public sealed record ResolvedImage(string Reference, string ImageId, string Snapshot, long Size, int ChunkSize, ImageRunConfig Config, byte[] ConfigJson);

/// <summary>
/// Finds images for `run` (pulling — which only reads the manifest — when the node does not have them yet)
/// and records committed containers as new images.
/// </summary>
public interface IImageResolver
{
    /// <summary>Throws ContainerException IMAGE_UNKNOWN with a clear message when no such image exists.</summary>
    Task<ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Records a new image made from <paramref name="parent"/>'s config and a new snapshot; returns its id.</summary>
    Task<string> RecordCommitAsync(string reference, ResolvedImage parent, string snapshot, CancellationToken cancellationToken);
}
