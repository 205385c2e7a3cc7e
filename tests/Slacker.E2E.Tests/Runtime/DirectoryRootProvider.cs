using Slacker.E2E.Tests.Fixtures;
using Slacker.Node.Containers;

namespace Slacker.E2E.Tests.Runtime;

/// <summary>
/// Roots for the runtime-layer tests: the "image" is a directory, and each container gets its own copy of it.
/// It exercises the real runtime (crun/runc), bundles, stdio and state without the lazy data path.
/// </summary>
public sealed class DirectoryRootProvider(string workDir) : IContainerRootProvider
{
    public ImageRunConfig Image { get; set; } = new([], ["sh"], ["FROM_IMAGE=yes"], "", "");

    public int StaleCleanups { get; private set; }

    public async Task<ImageRunConfig> PrepareAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(record.Config.Image))
        {
            throw new ContainerException(ContainerErrors.ImageUnknown, $"No such image: {record.Config.Image}");
        }

        await BusyboxRootfs.CopyAsync(record.Config.Image, RootOf(record));
        record.ImageId = record.Config.Image;
        return Image;
    }

    public Task<string> AttachAsync(ContainerRecord record, CancellationToken cancellationToken) => Task.FromResult(RootOf(record));

    public Task DetachAsync(ContainerRecord record, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task RemoveAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        if (Directory.Exists(RootOf(record)))
        {
            Directory.Delete(RootOf(record), recursive: true);
        }

        return Task.CompletedTask;
    }

    public Task CleanupStaleAsync(CancellationToken cancellationToken)
    {
        StaleCleanups++;
        return Task.CompletedTask;
    }

    private string RootOf(ContainerRecord record) => Path.Join(workDir, "roots", record.Id);
}
