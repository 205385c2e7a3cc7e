using Slacker.Core.Storage;

namespace Slacker.Images.Tests.Support;

/// <summary>Everything a refused import must leave as it was: stored objects, snapshots, volumes, registry tags.</summary>
public sealed record StoreState(int Objects, int Snapshots, int Volumes, int Repositories)
{
    public static async Task<StoreState> ReadAsync(ServerFixture server)
    {
        var objects = 0;
        await foreach (var _ in server.Host.Stores.Chunks.ListAsync())
        {
            objects++;
        }

        var snapshots = (await server.Blocks.ListSnapshotsAsync()).Count;
        var volumes = (await server.Blocks.ListVolumesAsync()).Count;
        using var registry = new Distribution.RegistryClient(server.Address);
        var repositories = (await registry.ListRepositoriesAsync()).Count;
        return new StoreState(objects, snapshots, volumes, repositories);
    }

    public static async Task AssertFsckCleanAsync(ServerFixture server)
    {
        var report = await server.Host.Stores.CreateChecker().CheckAsync();
        Assert.True(report.IsClean, string.Join("\n", report.Problems.Select(p => $"{p.Kind} {p.Subject}: {p.Detail}")));
    }
}
