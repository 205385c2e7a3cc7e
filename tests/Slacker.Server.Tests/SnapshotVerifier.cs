using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

/// <summary>Reads a snapshot back through the API the way a node would: root verified by id, pages by digest, chunks by digest.</summary>
public static class SnapshotVerifier
{
    /// <summary>The snapshot's non-zero entries, after fetching and verifying every page and chunk.</summary>
    public static async Task<SortedDictionary<long, Digest>> ReadVerifiedAsync(BlockStoreClient client, Digest snapshotId)
    {
        var root = await client.GetRootAsync(snapshotId);
        var entries = new SortedDictionary<long, Digest>();
        for (var p = 0; p < root.Pages.Length; p++)
        {
            var page = root.Pages[p];
            if (page.IsZero)
            {
                continue;
            }

            var bytes = await client.GetPageAsync(page);
            var slots = BlockMapPage.Entries(bytes);
            for (var slot = 0; slot < slots.Length; slot++)
            {
                if (!slots[slot].IsZero)
                {
                    entries[((long)p * ChunkGeometry.EntriesPerPage) + slot] = slots[slot];
                }
            }
        }

        var distinct = entries.Values.Distinct().ToList();
        var seen = 0;
        await client.GetChunksAsync(distinct, (_, _) =>
        {
            seen++;
            return ValueTask.CompletedTask;
        });
        Assert.Equal(distinct.Count, seen);
        return entries;
    }
}
