using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

/// <summary>`slacker fsck --data DIR` as a user runs it: exit 0 when clean, else non-zero and one line per problem.</summary>
public sealed class FsckCliTests
{
    [Fact]
    public async Task Fsck_names_each_damaged_object_and_exits_non_zero()
    {
        using var data = new TempDirectory("slacker-fsck");
        Digest snapshot;
        (Digest Digest, byte[] Bytes)[] chunks;
        await using (var host = await SlackerServerHost.StartAsync(new ServerOptions { DataDirectory = data.Path, Listen = "127.0.0.1:0" }, l => l.ClearProviders()))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            var client = new BlockStoreClient(http);
            chunks = [.. Enumerable.Range(0, 3).Select(i => new byte[4096].Select((_, j) => (byte)(i + j)).ToArray()).Select(b => (Digest.Compute(b), b))];
            foreach (var (digest, bytes) in chunks)
            {
                await client.PutChunkAsync(digest, bytes);
            }

            var volume = await client.CreateVolumeAsync(1 << 20, 4096);
            await client.UpdateMapAsync(volume.Id, [.. chunks.Select((c, i) => new BlockMapEntry(i, c.Digest.ToString()))]);
            snapshot = Digest.Parse((await client.SnapshotAsync(volume.Id)).Id);
        }

        var clean = await SlackerProcess.RunAsync(["fsck", "--data", data.Path]);
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.Contains("1 snapshots, 1 volumes, 3 chunks checked: clean", clean.Output);

        File.Delete(ChunkPath(data.Path, chunks[0].Digest));
        await File.WriteAllBytesAsync(ChunkPath(data.Path, chunks[1].Digest), new byte[4096]);
        var damaged = await SlackerProcess.RunAsync(["fsck", "--data", data.Path]);

        Assert.Equal(1, damaged.ExitCode);
        Assert.Contains($"PROBLEM chunk-missing {chunks[0].Digest}: reached from snapshot {snapshot}", damaged.Output);
        Assert.Contains($"PROBLEM chunk-corrupt {chunks[1].Digest}", damaged.Output);
        Assert.Contains("2 problem(s)", damaged.Output);
    }

    [Fact]
    public async Task Fsck_of_a_missing_directory_says_which()
    {
        var missing = await SlackerProcess.RunAsync(["fsck", "--data", "/nonexistent/slacker-data"]);

        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("/nonexistent/slacker-data", missing.Output);
    }

    private static string ChunkPath(string data, Digest digest) => Path.Join(data, "chunks", digest.Hex[..2], digest.Hex[2..4], digest.Hex);
}
