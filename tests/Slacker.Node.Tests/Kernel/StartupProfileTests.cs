using Slacker.Core.Model;
using Slacker.Node.Attach;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

/// <summary>
/// Startup profiles against a real server and the real kernel path: a first container of a snapshot records what
/// it read, and a second node that starts a clone of the snapshot fetches those chunks ahead of its reads.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class StartupProfileTests
{
    [Fact]
    public async Task A_fresh_node_prefetches_what_the_first_container_read_and_its_reads_then_hit_the_cache()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(256L << 20, files: 120, maxFileBytes: 128 << 10, seed: 21);
        var picked = files.Where((_, i) => i % 5 == 1).ToList();

        // Node A: no profile yet, so the first clone records its first reads and stores them when it is detached.
        var nodeA = harness.OpenNode();
        var first = await harness.AttachAsync(new VolumeAttacher(nodeA), await harness.CloneAsync(snapshot));
        foreach (var (name, hash) in picked)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(first.MountPath, name)));
        }

        await NodeHarness.WaitForIdleFetcherAsync(nodeA);
        harness.Detach(first);
        var readByFirst = first.Volume.StatsSnapshot();
        var profile = await WaitForProfileAsync(harness, snapshot);
        Assert.Equal(readByFirst.ProfileChunksRecorded, profile.Chunks.Count);
        Assert.Equal(profile.Chunks.Count, profile.Chunks.Distinct().Count());
        Assert.InRange(profile.Chunks.Count, 1, readByFirst.ChunksFetched);

        // Node B: its own empty cache. Attaching the clone replays the profile before anything reads it.
        var nodeB = harness.OpenNode(name: "node-b");
        var second = await harness.AttachAsync(new VolumeAttacher(nodeB), await harness.CloneAsync(snapshot));
        await NodeHarness.WaitForIdleFetcherAsync(nodeB);
        var prefetched = second.Volume.StatsSnapshot();
        Assert.Equal(profile.Chunks.Count, prefetched.ProfileChunksReplayed);
        Assert.True(prefetched.ChunksFetched >= profile.Chunks.Count * 9 / 10, $"only {prefetched.ChunksFetched} of the profile's {profile.Chunks.Count} chunks were prefetched");

        foreach (var (name, hash) in picked)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(second.MountPath, name)));
        }

        await NodeHarness.WaitForIdleFetcherAsync(nodeB);
        var after = second.Volume.StatsSnapshot();
        Console.WriteLine($"profile {profile.Chunks.Count} chunks; second node: prefetched {prefetched.ChunksFetched}, then {after.CacheMisses - prefetched.CacheMisses} misses and {after.ChunksFetched - prefetched.ChunksFetched} more chunks for {after.BytesRead - prefetched.BytesRead} bytes read");

        // The same reads again: every chunk they needed was in the profile, so none had to wait for the server
        // (sequential reads may still send read-ahead for chunks the first node fetched but never read).
        Assert.Equal(prefetched.CacheMisses, after.CacheMisses);
        Assert.True(after.BytesFetched <= 2 * after.BytesRead, $"fetched {after.BytesFetched} bytes for {after.BytesRead} read");

        // The second node found a profile, so it did not record another.
        harness.Detach(second);
        Assert.Equal(0, second.Volume.StatsSnapshot().ProfileChunksRecorded);
    }

    [Fact]
    public async Task Profiles_off_record_and_replay_nothing()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(128L << 20, files: 10, maxFileBytes: 64 << 10, seed: 22);
        var node = harness.OpenNode(new NodeOptions { Root = "", StartupProfiles = false });
        var attached = await harness.AttachAsync(new VolumeAttacher(node), await harness.CloneAsync(snapshot));
        foreach (var (name, hash) in files)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(attached.MountPath, name)));
        }

        harness.Detach(attached);
        Assert.Null(await harness.Server.Client.GetStartupProfileAsync(Digest.Parse(snapshot)));
        Assert.Equal(0, attached.Volume.StatsSnapshot().ProfileChunksRecorded);
    }

    /// <summary>The profile is stored in the background after the detach.</summary>
    private static async Task<Core.Api.StartupProfile> WaitForProfileAsync(NodeHarness harness, string snapshot)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await harness.Server.Client.GetStartupProfileAsync(Digest.Parse(snapshot)) is { } profile)
            {
                return profile;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"no startup profile of {snapshot} was stored within 6 s of the detach");
    }
}
