namespace Slacker.Node.Containers;

/// <summary>
/// Where a container's root file system comes from. The node's provider makes each container a clone of the
/// image's snapshot and attaches it lazily (FUSE, loop, ext4); the runtime layer only needs a mounted directory.
/// </summary>
public interface IContainerRootProvider
{
    /// <summary>Finds the image (pulling it when the node lacks it), makes the container's own volume and records both on the record.</summary>
    Task<ImageRunConfig> PrepareAsync(ContainerRecord record, CancellationToken cancellationToken);

    /// <summary>Mounts the container's root and returns the directory the runtime should use.</summary>
    Task<string> AttachAsync(ContainerRecord record, CancellationToken cancellationToken);

    /// <summary>Unmounts the container's root; its changes stay on the node for commit.</summary>
    Task DetachAsync(ContainerRecord record, CancellationToken cancellationToken);

    /// <summary>Throws the container's volume away (local changes and the clone on the server).</summary>
    Task RemoveAsync(ContainerRecord record, CancellationToken cancellationToken);

    /// <summary>At node start: removes mounts a previous node left behind (only its own, under its data dir).</summary>
    Task CleanupStaleAsync(CancellationToken cancellationToken);
}
