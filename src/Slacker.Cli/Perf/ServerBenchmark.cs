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
        // Runs are interleaved across the rows so that machine noise hits every row alike.
        SnapshotCase[] cases =
        [
            new(1L << 30, 0), new(64L << 30, 0), new(1L << 30, 1L << 30), new(64L << 30, 1L << 30), new(64L << 30, 64L << 30),
        ];
        foreach (var c in cases)
        {
            await c.PrepareAsync(client, ct);
        }

        var random = new Random(1);
        for (var run = 0; run < runs; run++)
        {
            foreach (var c in cases)
            {
                await c.MeasureAsync(client, random, ct);
            }
        }

        foreach (var c in cases)
        {
            output.WriteLine($"| {c.Size >> 30} GiB | {c.Geometry.PageCount} | {DirtyChunks} ({(c.SpreadBytes == 0 ? "consecutive" : $"scattered over {c.SpreadBytes >> 30} GiB")}) | {c.PagesRewritten} | {Stats(c.SnapshotMs)} | {Stats(c.CloneMs)} |");
        }

        output.WriteLine();
        output.WriteLine("| chunk size | upload MB/s (PUT, 8 streams) | download MB/s (GET, 8 streams) | download MB/s (batch of 64, 2 streams) |");
        output.WriteLine("|---|---|---|---|");
        foreach (var chunkSize in new[] { 64 * 1024, 1024 * 1024 })
        {
            await ThroughputAsync(client, chunkSize, uploadBytes, ct);
        }
    }

    /// <param name="SpreadBytes">0: the dirty chunks are consecutive; else scattered over this many bytes of the volume.</param>
    private sealed record SnapshotCase(long Size, long SpreadBytes)
    {
        private const int ChunkSize = ChunkGeometry.DefaultChunkSize;
        private string _volume = "";
        private Digest _base;

        public ChunkGeometry Geometry { get; } = new(Size, ChunkSize);

        public List<double> SnapshotMs { get; } = [];

        public List<double> CloneMs { get; } = [];

        public int PagesRewritten { get; private set; }

        /// <summary>A volume whose base has data in every page, so a snapshot that walked the whole map would show it.</summary>
        public async Task PrepareAsync(BlockStoreClient client, CancellationToken ct)
        {
            _volume = (await client.CreateVolumeAsync(Size, ChunkSize, $"bench-{Size >> 30}g", ct)).Id;
            var filler = RandomNumberGenerator.GetBytes(ChunkSize);
            var digest = Digest.Compute(filler);
            await client.PutChunkAsync(digest, filler, ct);
            await client.UpdateMapAsync(_volume, [.. Enumerable.Range(0, Geometry.PageCount).Select(p => new BlockMapEntry((long)p * ChunkGeometry.EntriesPerPage, digest.ToString()))], ct);
            _base = Digest.Parse((await client.SnapshotAsync(_volume, ct: ct)).Id);
        }

        /// <summary>Dirties 100 chunks (uploads and map update untimed), then times the snapshot and one clone.</summary>
        public async Task MeasureAsync(BlockStoreClient client, Random random, CancellationToken ct)
        {
            var spread = SpreadBytes / ChunkSize;
            var first = random.NextInt64(Geometry.ChunkCount - Math.Max(spread, DirtyChunks));
            var entries = new List<BlockMapEntry>();
            for (var i = 0; i < DirtyChunks; i++)
            {
                var bytes = RandomNumberGenerator.GetBytes(ChunkSize);
                var digest = Digest.Compute(bytes);
                await client.PutChunkAsync(digest, bytes, ct);
                entries.Add(new BlockMapEntry(spread == 0 ? first + i : first + random.NextInt64(spread), digest.ToString()));
            }

            await client.UpdateMapAsync(_volume, entries, ct);
            PagesRewritten = entries.Select(e => ChunkGeometry.PageOf(e.Index)).Distinct().Count();
            var clock = Stopwatch.StartNew();
            await client.SnapshotAsync(_volume, ct: ct);
            SnapshotMs.Add(clock.Elapsed.TotalMilliseconds);

            clock.Restart();
            await client.CloneAsync(_base, ct: ct);
            CloneMs.Add(clock.Elapsed.TotalMilliseconds);
        }
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
