using System.Collections.Concurrent;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Xunit.Abstractions;

namespace Slacker.Server.Tests;

/// <summary>
/// gc in a tight loop while clients push: missing query, upload, map update, snapshot, clone and release.
/// Pushes deliberately reuse chunks that are garbage and older than the grace period, so the sweep races the
/// "you already have it" answer. Nothing referenced may be lost, and gc must still collect real garbage.
/// </summary>
public sealed class GcSafetyTests(ITestOutputHelper log)
{
    private const int ChunkSize = 16384;
    private const long VolumeSize = 2048L * ChunkSize;
    // A push takes well under a second; the margin keeps a heavily loaded CI machine from turning a slow push into a false failure.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private sealed record Kept(Digest Id, SortedDictionary<long, Digest> Entries);

    [Fact]
    public async Task Gc_during_pushes_loses_nothing_referenced()
    {
        await using var server = await InProcessServer.StartAsync(Grace);
        var client = server.Client;
        var random = new Random(777);

        // Garbage older than the grace period: a released snapshot's chunks and some never-referenced uploads.
        var old = await server.UploadRandomChunksAsync(60, ChunkSize, random);
        var doomed = await client.CreateVolumeAsync(VolumeSize, ChunkSize);
        await client.UpdateMapAsync(doomed.Id, [.. old.Take(30).Select((c, i) => new BlockMapEntry(i, c.Digest.ToString()))]);
        var doomedSnapshot = Digest.Parse((await client.SnapshotAsync(doomed.Id)).Id);
        await client.DeleteVolumeAsync(doomed.Id);
        await client.ReleaseSnapshotAsync(doomedSnapshot);
        await Task.Delay(Grace + TimeSpan.FromMilliseconds(500));

        var kept = new ConcurrentDictionary<Digest, Kept>();
        var volumes = new ConcurrentDictionary<string, SortedDictionary<long, Digest>>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var reports = new ConcurrentBag<GcReport>();
        var gcLoop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                reports.Add(await client.GcAsync());
            }
        });
        var pushers = Enumerable.Range(0, 3).Select(w => Task.Run(() => PushAsync(client, new Random(w), old, kept, volumes, stop))).ToArray();
        await Task.WhenAll([.. pushers, gcLoop]);

        log.WriteLine($"{reports.Count} gc passes deleted {reports.Sum(r => r.ChunksDeleted)} chunks, {reports.Sum(r => r.PagesDeleted)} pages, {reports.Sum(r => r.SnapshotsDeleted)} snapshots; {kept.Count} snapshots kept");
        Assert.True(reports.Count >= 2);
        Assert.True(reports.Sum(r => r.SnapshotsDeleted) >= 1, "the released snapshot was never collected");
        Assert.True(reports.Sum(r => r.ChunksDeleted) >= 1, "gc collected no garbage at all");
        Assert.NotEmpty(kept);

        await client.GcAsync();
        foreach (var snapshot in kept.Values)
        {
            Assert.Equal(snapshot.Entries, await SnapshotVerifier.ReadVerifiedAsync(client, snapshot.Id));
        }

        foreach (var (volume, model) in volumes)
        {
            var snapshot = Digest.Parse((await client.SnapshotAsync(volume)).Id);
            Assert.Equal(model, await SnapshotVerifier.ReadVerifiedAsync(client, snapshot));
        }

        var fsck = await StoreState.FsckAsync(server.DataDirectory);
        Assert.True(fsck.IsClean, string.Join("\n", fsck.Problems));
    }

    /// <summary>Runs whole pushes until told to stop; a push is never cut short, so the model stays exact.</summary>
    private static async Task PushAsync(
        BlockStoreClient client, Random random, (Digest Digest, byte[] Bytes)[] old,
        ConcurrentDictionary<Digest, Kept> kept, ConcurrentDictionary<string, SortedDictionary<long, Digest>> volumes, CancellationTokenSource stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var sources = kept.Values.ToArray();
            VolumeInfo volume;
            SortedDictionary<long, Digest> model;
            if (sources.Length > 0 && random.Next(2) == 0)
            {
                var source = sources[random.Next(sources.Length)];
                volume = await client.CloneAsync(source.Id);
                model = new SortedDictionary<long, Digest>(source.Entries);
            }
            else
            {
                volume = await client.CreateVolumeAsync(VolumeSize, ChunkSize);
                model = [];
            }

            for (var push = 0; push < 3; push++)
            {
                var chunks = new List<(Digest Digest, byte[] Bytes)>();
                for (var i = 0; i < 6; i++)
                {
                    if (random.Next(2) == 0)
                    {
                        chunks.Add(old[random.Next(old.Length)]);
                    }
                    else
                    {
                        var bytes = new byte[ChunkSize];
                        random.NextBytes(bytes);
                        chunks.Add((Digest.Compute(bytes), bytes));
                    }
                }

                // The push protocol: ask, upload what is missing, reference, snapshot.
                var missing = (await client.FindMissingAsync([.. chunks.Select(c => c.Digest)])).ToHashSet();
                foreach (var chunk in chunks.Where(c => missing.Contains(c.Digest)).DistinctBy(c => c.Digest))
                {
                    await client.PutChunkAsync(chunk.Digest, chunk.Bytes);
                }

                var entries = chunks.Select(c => new BlockMapEntry(random.NextInt64(VolumeSize / ChunkSize), c.Digest.ToString())).ToList();
                await client.UpdateMapAsync(volume.Id, entries);
                foreach (var entry in entries)
                {
                    model[entry.Index] = Digest.Parse(entry.Digest!);
                }

                var snapshot = Digest.Parse((await client.SnapshotAsync(volume.Id)).Id);
                kept[snapshot] = new Kept(snapshot, new SortedDictionary<long, Digest>(model));
            }

            // Give some snapshots back: released ones that no volume uses are real garbage for the next pass.
            if (random.Next(3) == 0 && kept.Keys.ToArray() is { Length: > 0 } ids)
            {
                var release = ids[random.Next(ids.Length)];
                if (kept.TryRemove(release, out _))
                {
                    await client.ReleaseSnapshotAsync(release);
                }
            }

            if (random.Next(2) == 0)
            {
                await client.DeleteVolumeAsync(volume.Id);
            }
            else
            {
                volumes[volume.Id] = model;
            }
        }
    }
}
