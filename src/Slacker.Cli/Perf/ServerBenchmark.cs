using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Server;

namespace Slacker.Cli.Perf;

/// <summary>
/// The measurements behind docs/perf/server.md: snapshot and clone time against volume size, and chunk
/// throughput over loopback. Runs a real Kestrel server in-process over a fresh data directory and talks to it
/// with the real client, so every number includes HTTP, JSON, SQLite commits and fsyncs.
/// </summary>
public sealed class ServerBenchmark(TextWriter output, int runs)
{
    private const int DirtyChunks = 100;

    public async Task RunAsync(string dataDirectory, long uploadBytes, CancellationToken ct)
    {
        await using var host = await SlackerServerHost.StartAsync(
            new ServerOptions { DataDirectory = dataDirectory, Listen = "127.0.0.1:0" }, logging => logging.ClearProviders(), ct);
        using var http = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromMinutes(10) };
        var client = new BlockStoreClient(http);
        output.WriteLine($"server {host.Address} data {dataDirectory}; {runs} runs per figure, median (min..max)");
        output.WriteLine();
        output.WriteLine("| volume | base pages | dirty chunks (placement) | pages rewritten | snapshot ms | clone ms |");
        output.WriteLine("|---|---|---|---|---|---|");
        // Same dirty chunks, same page spread, 64x the volume: the snapshot must cost the same. The last row
        // spreads them over the whole 64 GiB, so more pages change: cost follows changed pages, not size.
        await SnapshotAndCloneAsync(client, 1L << 30, spreadBytes: 0, ct);
        await SnapshotAndCloneAsync(client, 64L << 30, spreadBytes: 0, ct);
        await SnapshotAndCloneAsync(client, 1L << 30, spreadBytes: 1L << 30, ct);
        await SnapshotAndCloneAsync(client, 64L << 30, spreadBytes: 1L << 30, ct);
        await SnapshotAndCloneAsync(client, 64L << 30, spreadBytes: 64L << 30, ct);

        output.WriteLine();
        output.WriteLine("| chunk size | upload MB/s (PUT, 8 streams) | download MB/s (GET, 8 streams) | download MB/s (batch of 64, 2 streams) |");
        output.WriteLine("|---|---|---|---|");
        foreach (var chunkSize in new[] { 64 * 1024, 1024 * 1024 })
        {
            await ThroughputAsync(client, chunkSize, uploadBytes, ct);
        }
    }

    /// <param name="spreadBytes">0: the dirty chunks are consecutive; else scattered over this many bytes of the volume.</param>
    private async Task SnapshotAndCloneAsync(BlockStoreClient client, long size, long spreadBytes, CancellationToken ct)
    {
        const int chunkSize = ChunkGeometry.DefaultChunkSize;
        var geometry = new ChunkGeometry(size, chunkSize);
        var volume = await client.CreateVolumeAsync(size, chunkSize, $"bench-{size >> 30}g", ct);

        // A base with data in every page, so a snapshot that walked the whole map would show it.
        var filler = RandomNumberGenerator.GetBytes(chunkSize);
        var fillerDigest = Digest.Compute(filler);
        await client.PutChunkAsync(fillerDigest, filler, ct);
        var baseEntries = Enumerable.Range(0, geometry.PageCount).Select(p => new BlockMapEntry((long)p * ChunkGeometry.EntriesPerPage, fillerDigest.ToString())).ToList();
        await client.UpdateMapAsync(volume.Id, baseEntries, ct);
        var baseSnapshot = await client.SnapshotAsync(volume.Id, ct: ct);

        var snapshotMs = new List<double>();
        var pagesRewritten = 0;
        var random = new Random(1);
        for (var run = 0; run < runs; run++)
        {
            var entries = new List<BlockMapEntry>();
            var spread = spreadBytes / chunkSize;
            var first = random.NextInt64(geometry.ChunkCount - Math.Max(spread, DirtyChunks));
            for (var i = 0; i < DirtyChunks; i++)
            {
                var bytes = RandomNumberGenerator.GetBytes(chunkSize);
                var digest = Digest.Compute(bytes);
                await client.PutChunkAsync(digest, bytes, ct);
                entries.Add(new BlockMapEntry(spread == 0 ? first + i : first + random.NextInt64(spread), digest.ToString()));
            }

            await client.UpdateMapAsync(volume.Id, entries, ct);
            pagesRewritten = entries.Select(e => ChunkGeometry.PageOf(e.Index)).Distinct().Count();
            var clock = Stopwatch.StartNew();
            await client.SnapshotAsync(volume.Id, ct: ct);
            snapshotMs.Add(clock.Elapsed.TotalMilliseconds);
        }

        var cloneMs = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            await client.CloneAsync(Digest.Parse(baseSnapshot.Id), ct: ct);
            cloneMs.Add(clock.Elapsed.TotalMilliseconds);
        }

        output.WriteLine($"| {size >> 30} GiB | {geometry.PageCount} | {DirtyChunks} ({(spreadBytes == 0 ? "consecutive" : $"scattered over {spreadBytes >> 30} GiB")}) | {pagesRewritten} | {Stats(snapshotMs)} | {Stats(cloneMs)} |");
    }

    private async Task ThroughputAsync(BlockStoreClient client, int chunkSize, long totalBytes, CancellationToken ct)
    {
        var count = (int)(totalBytes / chunkSize);
        var uploads = new List<double>();
        var downloads = new List<double>();
        var batches = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var chunks = Enumerable.Range(0, count).Select(_ => RandomNumberGenerator.GetBytes(chunkSize)).ToArray();
            var digests = chunks.Select(c => Digest.Compute(c)).ToArray();

            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (i, token) => await client.PutChunkAsync(digests[i], chunks[i], token));
            uploads.Add(totalBytes / clock.Elapsed.TotalSeconds / 1e6);

            clock.Restart();
            await Parallel.ForEachAsync(digests, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (d, token) => await client.GetChunkAsync(d, token));
            downloads.Add(totalBytes / clock.Elapsed.TotalSeconds / 1e6);

            clock.Restart();
            await Parallel.ForEachAsync(digests.Chunk(64), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct },
                async (batch, token) => await client.GetChunksAsync(batch, (_, _) => ValueTask.CompletedTask, token));
            batches.Add(totalBytes / clock.Elapsed.TotalSeconds / 1e6);
        }

        output.WriteLine($"| {chunkSize / 1024} KiB | {Stats(uploads)} | {Stats(downloads)} | {Stats(batches)} |");
    }

    private static string Stats(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"{median:0.0} ({sorted[0]:0.0}..{sorted[^1]:0.0})");
    }
}
