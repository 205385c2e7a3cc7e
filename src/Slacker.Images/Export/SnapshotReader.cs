using Microsoft.Win32.SafeHandles;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Images.Export;

/// <summary>
/// Materialises a snapshot as a sparse raw file: walks the verified root and pages, fetches every non-zero
/// chunk in batches (each verified by the client) and writes it at its offset. Zero chunks stay holes.
/// </summary>
public static class SnapshotReader
{
    private const int BatchDigests = 256;

    public static async Task<long> WriteRawAsync(BlockStoreClient blocks, Digest snapshot, string path, CancellationToken cancellationToken = default)
    {
        var root = await blocks.GetRootAsync(snapshot, cancellationToken).ConfigureAwait(false);
        var geometry = root.Geometry;
        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        RandomAccess.SetLength(file, geometry.VolumeSize);

        var offsetsOf = new Dictionary<Digest, List<long>>();
        long chunks = 0;
        for (var page = 0; page < root.Pages.Length; page++)
        {
            var pageDigest = root.Pages[page];
            if (pageDigest.IsZero)
            {
                continue;
            }

            var entries = await blocks.GetPageAsync(pageDigest, cancellationToken).ConfigureAwait(false);
            for (var slot = 0; slot < ChunkGeometry.EntriesPerPage; slot++)
            {
                var digest = BlockMapPage.GetEntry(entries, slot);
                var index = ((long)page * ChunkGeometry.EntriesPerPage) + slot;
                if (digest.IsZero || index >= geometry.ChunkCount)
                {
                    continue;
                }

                if (!offsetsOf.TryGetValue(digest, out var offsets))
                {
                    offsetsOf[digest] = offsets = [];
                }

                offsets.Add(geometry.OffsetOf(index));
                chunks++;
            }

            if (offsetsOf.Count >= BatchDigests * 16)
            {
                await FetchAsync(blocks, file, offsetsOf, cancellationToken).ConfigureAwait(false);
            }
        }

        await FetchAsync(blocks, file, offsetsOf, cancellationToken).ConfigureAwait(false);
        return chunks;
    }

    private static async Task FetchAsync(BlockStoreClient blocks, SafeFileHandle file, Dictionary<Digest, List<long>> offsetsOf, CancellationToken cancellationToken)
    {
        foreach (var batch in offsetsOf.Keys.Chunk(BatchDigests))
        {
            await blocks.GetChunksAsync(batch, (digest, data) =>
            {
                foreach (var offset in offsetsOf[digest])
                {
                    RandomAccess.Write(file, data.Span, offset);
                }

                return ValueTask.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
        }

        offsetsOf.Clear();
    }
}
