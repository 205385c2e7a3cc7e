using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Node.Tests.Fakes;

/// <summary>Builds snapshots in an <see cref="InMemoryBlockStore"/> from a list of (chunk index, bytes).</summary>
internal static class FakeVolumes
{
    public const int ChunkSize = 64 * 1024;

    /// <summary>A snapshot of a volume of <paramref name="chunks"/> chunks where every chunk in <paramref name="filled"/> holds random bytes.</summary>
    public static async Task<(string Snapshot, Dictionary<long, byte[]> Content)> SnapshotAsync(InMemoryBlockStore store, long chunks, IEnumerable<long> filled, int seed = 1)
    {
        var volume = await store.CreateVolumeAsync(new CreateVolumeRequest(chunks * ChunkSize, ChunkSize), default);
        var random = new Random(seed);
        var content = new Dictionary<long, byte[]>();
        var entries = new List<BlockMapEntry>();
        foreach (var index in filled)
        {
            var bytes = new byte[ChunkSize];
            random.NextBytes(bytes);
            var digest = Digest.Compute(bytes);
            await store.PutChunkAsync(digest, bytes, default);
            content[index] = bytes;
            entries.Add(new BlockMapEntry(index, digest.ToString()));
        }

        await store.UpdateMapAsync(volume.Id, entries, default);
        var snapshot = await store.SnapshotAsync(volume.Id, null, default);
        return (snapshot.Id, content);
    }

    public static async Task<string> CloneAsync(InMemoryBlockStore store, string snapshot) =>
        (await store.CreateVolumeAsync(new CreateVolumeRequest(BaseSnapshot: snapshot), default)).Id;

    public static byte[] Expected(Dictionary<long, byte[]> content, long offset, int length)
    {
        var result = new byte[length];
        for (var i = 0; i < length; i++)
        {
            var position = offset + i;
            if (content.TryGetValue(position / ChunkSize, out var chunk))
            {
                result[i] = chunk[position % ChunkSize];
            }
        }

        return result;
    }
}
