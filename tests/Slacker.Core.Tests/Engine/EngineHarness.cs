using Slacker.Core.Engine;
using Slacker.Core.Model;
using Slacker.Core.Storage;
using Slacker.Server.Storage;
using Slacker.Server.Storage.Sql;

namespace Slacker.Core.Tests.Engine;

/// <summary>
/// The real engine next to a model that is too simple to be wrong: each volume and each kept snapshot is a
/// dictionary index -> content id. Operations apply to both; <see cref="VerifyAsync"/> reads every kept
/// snapshot back through the stores (root by id, pages and chunks by digest) and compares.
/// </summary>
public sealed class EngineHarness : IAsyncDisposable
{
    public const int ChunkSize = 4096;
    private static readonly int[] VolumeChunkCounts = [8, 1500, 3000];

    private readonly string _directory;
    private readonly IAsyncDisposable _backend;
    private readonly SqlMetadataStore _metadata;
    private readonly Dictionary<string, Dictionary<long, int>> _volumes = [];
    private readonly Dictionary<Digest, Dictionary<long, int>> _snapshots = [];
    private readonly Dictionary<Digest, int> _contentIds = [];

    public EngineHarness(bool realFiles)
    {
        _directory = Directory.CreateTempSubdirectory("slacker-engine-model-").FullName;
        var database = SqliteDatabase.OpenAsync(Path.Join(_directory, "metadata.db"), readOnly: false, default).GetAwaiter().GetResult();
        _backend = database;
        _metadata = new SqlMetadataStore(database);
        Chunks = realFiles ? new FileChunkStore(Path.Join(_directory, "chunks")) : new InMemoryChunkStore();
        Pages = realFiles ? new FileChunkStore(Path.Join(_directory, "pages")) : new InMemoryChunkStore();
        Engine = new BlockStore(_metadata, Chunks, Pages);
        // Grace zero: in a sequential history every upload is referenced by the same operation.
        Gc = new GarbageCollector(_metadata, Chunks, Pages, TimeSpan.Zero);
    }

    private EngineHarness(ServerStores stores)
    {
        _directory = stores.DataDirectory;
        _backend = stores;
        _metadata = stores.Metadata;
        Chunks = stores.Chunks;
        Pages = stores.Pages;
        Engine = stores.CreateEngine();
        Gc = stores.CreateCollector(TimeSpan.Zero);
    }

    /// <summary>The same model over the backends that <paramref name="locations"/> names (the cluster's PostgreSQL + S3).</summary>
    public static async Task<EngineHarness> OpenAsync(StoreLocations locations) => new(await ServerStores.OpenAsync(locations));

    public IChunkStore Chunks { get; }

    public IChunkStore Pages { get; }

    public BlockStore Engine { get; }

    public GarbageCollector Gc { get; }

    public int Operations { get; private set; }

    public Task InitializeAsync() => _metadata.InitializeAsync();

    public static byte[] Content(int id)
    {
        var bytes = new byte[ChunkSize];
        if (id != 0)
        {
            new Random(id).NextBytes(bytes);
        }

        return bytes;
    }

    /// <summary>Interprets one generated step; parameters pick among what exists, so every step is meaningful.</summary>
    public async Task ApplyAsync((int Op, int A, int B, int C) step)
    {
        Operations++;
        var (op, a, b, c) = step;
        switch (op)
        {
            case 0:
                var chunks = VolumeChunkCounts[a % VolumeChunkCounts.Length];
                var created = await Engine.CreateVolumeAsync((long)chunks * ChunkSize, ChunkSize, null);
                _volumes[created.Id] = [];
                break;
            case 1 or 2 when _volumes.Count > 0:
                await WriteAsync(Pick(_volumes.Keys, a), b, c);
                break;
            case 3 when _volumes.Count > 0:
                var volume = Pick(_volumes.Keys, a);
                var snapshot = await Engine.SnapshotAsync(volume, null);
                _snapshots[snapshot.Id] = new Dictionary<long, int>(_volumes[volume]);
                Assert.Equal(0, (await Engine.GetVolumeAsync(volume)).ChangedChunks);
                break;
            case 4 when _snapshots.Count > 0:
                var source = Pick(_snapshots.Keys, a);
                var clone = await Engine.CloneAsync(source, null);
                _volumes[clone.Id] = new Dictionary<long, int>(_snapshots[source]);
                break;
            case 5 when _volumes.Count > 0:
                var doomed = Pick(_volumes.Keys, a);
                await Engine.DeleteVolumeAsync(doomed);
                _volumes.Remove(doomed);
                break;
            case 6 when _snapshots.Count > 0:
                var released = Pick(_snapshots.Keys, a);
                await Engine.ReleaseSnapshotAsync(released);
                _snapshots.Remove(released);
                break;
            case 7:
                await Gc.RunAsync();
                await VerifyAsync();
                break;
        }
    }

    /// <summary>Every kept snapshot reads back exactly as taken, every volume snapshots to its model, and fsck is clean.</summary>
    public async Task VerifyAsync(bool snapshotVolumes = false)
    {
        foreach (var (id, expected) in _snapshots)
        {
            Assert.Equal(expected.Where(e => e.Value != 0).OrderBy(e => e.Key), await ReadBackAsync(id));
        }

        if (snapshotVolumes)
        {
            foreach (var (volume, expected) in _volumes)
            {
                var snapshot = await Engine.SnapshotAsync(volume, null);
                Assert.Equal(expected.Where(e => e.Value != 0).OrderBy(e => e.Key), await ReadBackAsync(snapshot.Id));
            }
        }

        var report = await new StoreChecker(_metadata, Chunks, Pages).CheckAsync();
        Assert.True(report.IsClean, string.Join("\n", report.Problems));
    }

    public async Task<List<KeyValuePair<long, int>>> ReadBackAsync(Digest id)
    {
        var root = BlockMapRoot.Decode(await Engine.GetRootBytesAsync(id), id);
        var entries = new List<KeyValuePair<long, int>>();
        for (var p = 0; p < root.Pages.Length; p++)
        {
            if (root.Pages[p].IsZero)
            {
                continue;
            }

            var page = await Engine.GetPageAsync(root.Pages[p]);
            Assert.True(root.Pages[p].Matches(page));
            var slots = BlockMapPage.Entries(page).ToArray();
            for (var slot = 0; slot < slots.Length; slot++)
            {
                if (slots[slot].IsZero)
                {
                    continue;
                }

                var bytes = await Chunks.ReadAllAsync(slots[slot]);
                Assert.NotNull(bytes);
                Assert.True(slots[slot].Matches(bytes));
                entries.Add(new(((long)p * ChunkGeometry.EntriesPerPage) + slot, _contentIds[slots[slot]]));
            }
        }

        return entries;
    }

    public async ValueTask DisposeAsync()
    {
        await _backend.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WriteAsync(string volume, int b, int c)
    {
        var model = _volumes[volume];
        var chunkCount = (await Engine.GetVolumeAsync(volume)).Geometry.ChunkCount;
        var entries = new List<ChunkChange>();
        for (var j = 0; j <= b % 4; j++)
        {
            var index = ((c * 7919L) + (j * 1031L)) % chunkCount;
            // A small pool of contents, so that volumes and snapshots share chunks; id 0 is the zero chunk,
            // written either as a null entry or (as a naive client would) as the zero chunk's digest.
            var contentId = ((b * 31) + (j * 7)) % 12;
            var bytes = Content(contentId);
            var digest = Digest.Compute(bytes);
            _contentIds[digest] = contentId;
            await Engine.PutChunkAsync(digest, bytes);
            entries.Add(new ChunkChange(index, contentId == 0 && j % 2 == 0 ? Digest.Zero : digest));
            model[index] = contentId;
        }

        await Engine.UpdateMapAsync(volume, entries);
    }

    private static T Pick<T>(IEnumerable<T> items, int seed)
    {
        var list = items.ToList();
        return list[seed % list.Count];
    }
}
