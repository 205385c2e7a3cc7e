using System.Text;
using Slacker.Core.Api;
using Slacker.Server.Storage;

namespace Slacker.Server.Tests;

/// <summary>Everything a client or fsck can see of a store, as one comparable string: "bad input changed nothing".</summary>
public static class StoreState
{
    public static async Task<string> CaptureAsync(InProcessServer server)
    {
        var text = new StringBuilder();
        foreach (var area in new[] { "chunks", "pages" })
        {
            var root = Path.Join(server.DataDirectory, area);
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/tmp/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                text.Append(Path.GetRelativePath(server.DataDirectory, file)).Append(' ').Append(new FileInfo(file).Length).Append('\n');
            }
        }

        foreach (var volume in (await server.Client.ListVolumesAsync()).OrderBy(v => v.Id, StringComparer.Ordinal))
        {
            var map = await server.Client.GetMapAsync(volume.Id);
            text.Append(volume with { CreatedAt = default }).Append('\n');
            foreach (var change in map.Changes)
            {
                text.Append(change).Append('\n');
            }
        }

        foreach (var snapshot in (await server.Client.ListSnapshotsAsync()).OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            text.Append(snapshot.Id).Append(' ').Append(snapshot.Released).Append(' ').AppendJoin(',', snapshot.ReferencedBy).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>fsck over the data directory, opened read-only beside the running server (as `slacker fsck` does).</summary>
    public static async Task<FsckReport> FsckAsync(string dataDirectory)
    {
        await using var stores = await ServerStores.OpenAsync(dataDirectory, readOnly: true);
        return await stores.CreateChecker().CheckAsync();
    }
}
