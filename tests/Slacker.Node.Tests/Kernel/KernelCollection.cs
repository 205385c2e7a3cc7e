namespace Slacker.Node.Tests.Kernel;

/// <summary>
/// Tests that mount real FUSE, loop and ext4 run one at a time: on two cores, parallel servers and kernels
/// would only slow each other down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelCollection
{
    public const string Name = "kernel";
}
