using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Node.Volumes;

/// <summary>
/// The upload half shared by commit and import: ask the server which chunks it lacks, send only those, then
/// record the map entries in batches. Cost follows the number of entries, never the volume size.
/// </summary>
internal static class ChunkUploader
{
    private const int MissingQueryLimit = 100_000;

    /// <summary>Uploads the chunks the server lacks; returns (chunks uploaded, bytes uploaded).</summary>
    public static async Task<(long Chunks, long Bytes)> UploadMissingAsync(
        IBlockStore store,
        IReadOnlyCollection<Digest> digests,
        Func<Digest, byte[]> readChunk,
        int parallelism,
        CancellationToken cancellationToken)
    {
        var distinct = digests.Where(d => !d.IsZero).Distinct().ToList();
        var missing = new List<Digest>();
        for (var start = 0; start < distinct.Count; start += MissingQueryLimit)
        {
            var query = distinct.GetRange(start, Math.Min(MissingQueryLimit, distinct.Count - start));
            missing.AddRange(await store.FindMissingAsync(query, cancellationToken));
        }

        long chunks = 0, bytes = 0;
        await Parallel.ForEachAsync(
            missing,
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (digest, ct) =>
            {
                var data = readChunk(digest);
                if (!digest.Matches(data))
                {
                    throw new InvalidDataException($"Chunk {digest} changed between hashing and upload; nothing was recorded for it. Retry.");
                }

                await store.PutChunkAsync(digest, data, ct);
                Interlocked.Increment(ref chunks);
                Interlocked.Add(ref bytes, data.Length);
            });
        return (chunks, bytes);
    }

    public static async Task UpdateMapAsync(IBlockStore store, string volumeId, IReadOnlyList<(long Index, Digest Digest)> entries, int batchSize, CancellationToken cancellationToken)
    {
        for (var start = 0; start < entries.Count; start += batchSize)
        {
            var batch = new List<BlockMapEntry>(Math.Min(batchSize, entries.Count - start));
            for (var i = start; i < Math.Min(start + batchSize, entries.Count); i++)
            {
                var (index, digest) = entries[i];
                batch.Add(new BlockMapEntry(index, digest.IsZero ? null : digest.ToString()));
            }

            await store.UpdateMapAsync(volumeId, batch, cancellationToken);
        }
    }
}
