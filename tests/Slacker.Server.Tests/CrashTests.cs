using System.Collections.Concurrent;
using System.Diagnostics;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Xunit.Abstractions;

namespace Slacker.Server.Tests;

/// <summary>
/// kill -9 of the real server process in the middle of concurrent uploads, map updates, clones, snapshots and
/// gc, many times over one data directory. Afterwards fsck is clean and every snapshot whose id reached a
/// client reads back exactly as it was taken.
/// </summary>
public sealed class CrashTests(ITestOutputHelper log)
{
    private const int Rounds = 10;
    private const int Workers = 4;
    private const int ChunkSize = 16384;
    private const long VolumeSize = 4096L * ChunkSize; // 64 MiB, 4 pages

    private sealed record Confirmed(Digest Id, SortedDictionary<long, Digest> Entries);

    [Fact]
    public async Task Kill_9_mid_flight_loses_no_acknowledged_snapshot_and_fsck_stays_clean()
    {
        using var data = new TempDirectory("slacker-crash");
        var confirmed = new ConcurrentBag<Confirmed>();
        var random = new Random(4242);
        var clock = Stopwatch.StartNew();

        for (var round = 0; round < Rounds; round++)
        {
            using var server = await ServerProcess.StartAsync(data.Path);
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(20) };
            var client = new BlockStoreClient(http);
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, Workers)
                .Select(w => Task.Run(() => WorkerAsync(client, new Random((round * 100) + w), confirmed, stop.Token)))
                .Append(Task.Run(() => GcLoopAsync(client, stop.Token)))
                .ToArray();

            var before = confirmed.Count;
            await Task.Delay(random.Next(400, 1500));
            server.Kill9();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
            log.WriteLine($"round {round}: killed pid {server.Pid} at {clock.Elapsed.TotalSeconds:0.0} s; {confirmed.Count - before} snapshots acknowledged this round");
        }

        Assert.NotEmpty(confirmed);

        // fsck on the data directory exactly as the last kill -9 left it.
        var fsck = await SlackerProcess.RunAsync(["fsck", "--data", data.Path]);
        Assert.True(fsck.ExitCode == 0, fsck.ToString());
        Assert.Contains("clean", fsck.Output);

        using (var server = await ServerProcess.StartAsync(data.Path))
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            var client = new BlockStoreClient(http);
            foreach (var snapshot in confirmed)
            {
                Assert.Equal(snapshot.Entries, await SnapshotVerifier.ReadVerifiedAsync(client, snapshot.Id));
            }

            await server.StopAsync();
        }

        log.WriteLine($"{confirmed.Count} acknowledged snapshots verified after {Rounds} kills, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// One volume at a time, strictly sequential, so the expected content of each snapshot is known exactly.
    /// Starts from a fresh volume or a clone of a confirmed snapshot; stops at the first failure (the server died).
    /// </summary>
    private static async Task WorkerAsync(BlockStoreClient client, Random random, ConcurrentBag<Confirmed> confirmed, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var known = confirmed.ToArray();
                SortedDictionary<long, Digest> model;
                VolumeInfo volume;
                if (known.Length > 0 && random.Next(2) == 0)
                {
                    var source = known[random.Next(known.Length)];
                    volume = await client.CloneAsync(source.Id, ct: stop);
                    model = new SortedDictionary<long, Digest>(source.Entries);
                }
                else
                {
                    volume = await client.CreateVolumeAsync(VolumeSize, ChunkSize, ct: stop);
                    model = [];
                }

                for (var step = 0; step < 6 && !stop.IsCancellationRequested; step++)
                {
                    var entries = new List<BlockMapEntry>();
                    var chunks = new List<(Digest Digest, byte[] Bytes)>();
                    for (var i = 0; i < random.Next(1, 8); i++)
                    {
                        var bytes = new byte[ChunkSize];
                        random.NextBytes(bytes);
                        chunks.Add((Digest.Compute(bytes), bytes));
                    }

                    var missing = (await client.FindMissingAsync([.. chunks.Select(c => c.Digest)], stop)).ToHashSet();
                    foreach (var (digest, bytes) in chunks.Where(c => missing.Contains(c.Digest)))
                    {
                        await client.PutChunkAsync(digest, bytes, stop);
                    }

                    foreach (var (digest, _) in chunks)
                    {
                        entries.Add(new BlockMapEntry(random.NextInt64(VolumeSize / ChunkSize), digest.ToString()));
                    }

                    if (model.Count > 0 && random.Next(3) == 0)
                    {
                        entries.Add(new BlockMapEntry(model.Keys.First(), null));
                    }

                    await client.UpdateMapAsync(volume.Id, entries, stop);
                    foreach (var entry in entries)
                    {
                        if (entry.Digest is null)
                        {
                            model.Remove(entry.Index);
                        }
                        else
                        {
                            model[entry.Index] = Digest.Parse(entry.Digest);
                        }
                    }

                    if (step % 2 == 1)
                    {
                        var snapshot = await client.SnapshotAsync(volume.Id, ct: stop);
                        confirmed.Add(new Confirmed(Digest.Parse(snapshot.Id), new SortedDictionary<long, Digest>(model)));
                    }
                }
            }
        }
        catch (Exception e) when (e is BlockStoreException { StatusCode: 0 or 502 } or HttpRequestException or IOException or OperationCanceledException)
        {
            // The server was killed under us: whatever was not acknowledged is allowed to be lost.
        }
    }

    private static async Task GcLoopAsync(BlockStoreClient client, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await client.GcAsync(stop);
                await Task.Delay(100, stop);
            }
        }
        catch (Exception e) when (e is BlockStoreException { StatusCode: 0 or 502 } or HttpRequestException or IOException or OperationCanceledException)
        {
        }
    }
}
