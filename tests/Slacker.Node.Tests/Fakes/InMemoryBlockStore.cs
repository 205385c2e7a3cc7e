using System.Collections.Concurrent;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Node;

namespace Slacker.Node.Tests.Fakes;

/// <summary>
/// The block-store semantics of docs/API.md in memory, for pure-logic tests of the cache and volume code. The
/// kernel tests use the real server instead.
/// </summary>
internal sealed class InMemoryBlockStore : IBlockStore
{
    private readonly ConcurrentDictionary<Digest, byte[]> _chunks = new();
    private readonly ConcurrentDictionary<Digest, byte[]> _pages = new();
    private readonly ConcurrentDictionary<Digest, byte[]> _roots = new();
    private readonly ConcurrentDictionary<string, Volume> _volumes = new();
    private readonly ConcurrentDictionary<Digest, StartupProfile> _profiles = new();
    private int _nextVolume;

    /// <summary>How often each chunk digest was sent in a batch answer.</summary>
    public ConcurrentDictionary<Digest, int> ServedCount { get; } = new();

    /// <summary>Hands over raw bytes, so the node must verify them itself.</summary>
    public bool ChunksVerified => false;

    public int BatchRequests;

    /// <summary>Delay before each batch answer (lets concurrent misses pile up).</summary>
    public TimeSpan BatchDelay { get; set; }

    /// <summary>When set, every request waits for this (simulates a hung server).</summary>
    public TaskCompletionSource? Hang { get; set; }

    public byte[] ChunkBytes(Digest digest) => _chunks[digest];

    public void Corrupt(Digest digest) => _chunks[digest][0] ^= 0xFF;

    public async Task FetchChunksAsync(IReadOnlyList<Digest> digests, ChunkReceived onChunk, CancellationToken cancellationToken)
    {
        await MaybeHang(cancellationToken);
        Interlocked.Increment(ref BatchRequests);
        if (BatchDelay > TimeSpan.Zero)
        {
            await Task.Delay(BatchDelay, cancellationToken);
        }

        foreach (var digest in digests)
        {
            if (!_chunks.TryGetValue(digest, out var data))
            {
                throw new InvalidOperationException("CHUNK_UNKNOWN " + digest);
            }
        }

        foreach (var digest in digests)
        {
            ServedCount.AddOrUpdate(digest, 1, (_, n) => n + 1);
            onChunk(digest, _chunks[digest]);
        }
    }

    public async Task<byte[]> GetRootAsync(Digest snapshotId, CancellationToken cancellationToken)
    {
        await MaybeHang(cancellationToken);
        return _roots[snapshotId];
    }

    public async Task<byte[]> GetPageAsync(Digest page, CancellationToken cancellationToken)
    {
        await MaybeHang(cancellationToken);
        return _pages[page];
    }

    public Task<IReadOnlyList<Digest>> FindMissingAsync(IReadOnlyList<Digest> digests, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Digest>>(digests.Where(d => !_chunks.ContainsKey(d)).ToList());

    public Task PutChunkAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!digest.Matches(data.Span))
        {
            throw new InvalidOperationException("DIGEST_MISMATCH");
        }

        _chunks.TryAdd(digest, data.ToArray());
        return Task.CompletedTask;
    }

    public Task<VolumeInfo> CreateVolumeAsync(CreateVolumeRequest request, CancellationToken cancellationToken)
    {
        var id = "vol" + Interlocked.Increment(ref _nextVolume);
        Volume volume;
        if (request.BaseSnapshot is { } snapshot)
        {
            var root = BlockMapRoot.Decode(_roots[Digest.Parse(snapshot)]);
            volume = new Volume(id, root.Geometry, snapshot);
        }
        else
        {
            volume = new Volume(id, new ChunkGeometry(request.Size!.Value, request.ChunkSize ?? ChunkGeometry.DefaultChunkSize), null);
        }

        _volumes[id] = volume;
        return Task.FromResult(volume.Info());
    }

    public Task<VolumeInfo> GetVolumeAsync(string volumeId, CancellationToken cancellationToken) => Task.FromResult(_volumes[volumeId].Info());

    public Task<VolumeBlockMap> GetMapAsync(string volumeId, CancellationToken cancellationToken)
    {
        var v = _volumes[volumeId];
        lock (v)
        {
            var changes = v.Changes.Select(c => new BlockMapEntry(c.Key, c.Value.IsZero ? null : c.Value.ToString())).ToList();
            return Task.FromResult(new VolumeBlockMap(v.Id, v.Geometry.VolumeSize, v.Geometry.ChunkSize, v.Base, changes));
        }
    }

    public Task<VolumeInfo> UpdateMapAsync(string volumeId, IReadOnlyList<BlockMapEntry> entries, CancellationToken cancellationToken)
    {
        var v = _volumes[volumeId];
        lock (v)
        {
            foreach (var e in entries)
            {
                var d = e.Digest is null ? Digest.Zero : Digest.Parse(e.Digest);
                if (!d.IsZero && !_chunks.ContainsKey(d))
                {
                    throw new InvalidOperationException("CHUNK_UNKNOWN " + d);
                }
            }

            foreach (var e in entries)
            {
                v.Changes[e.Index] = e.Digest is null ? Digest.Zero : Digest.Parse(e.Digest);
            }
        }

        return Task.FromResult(v.Info());
    }

    public Task<StartupProfile?> GetStartupProfileAsync(Digest snapshot, CancellationToken cancellationToken) =>
        Task.FromResult(_profiles.TryGetValue(snapshot, out var profile) ? profile : null);

    public Task PutStartupProfileAsync(Digest snapshot, StartupProfile profile, CancellationToken cancellationToken)
    {
        _profiles[snapshot] = profile;
        return Task.CompletedTask;
    }

    public Task<SnapshotInfo> SnapshotAsync(string volumeId, string? label, CancellationToken cancellationToken)
    {
        var v = _volumes[volumeId];
        lock (v)
        {
            var pageNames = v.Base is null ? new Digest[v.Geometry.PageCount] : BlockMapRoot.Decode(_roots[Digest.Parse(v.Base)]).Pages.ToArray();
            foreach (var group in v.Changes.GroupBy(c => ChunkGeometry.PageOf(c.Key)))
            {
                var page = pageNames[group.Key].IsZero ? new byte[ChunkGeometry.PageBytes] : (byte[])_pages[pageNames[group.Key]].Clone();
                foreach (var (index, digest) in group)
                {
                    BlockMapPage.SetEntry(page, ChunkGeometry.SlotOf(index), digest);
                }

                var name = BlockMapPage.NameOf(page);
                if (!name.IsZero)
                {
                    _pages[name] = page;
                }

                pageNames[group.Key] = name;
            }

            var root = new BlockMapRoot(v.Geometry, pageNames);
            var bytes = root.Encode();
            var id = Digest.Compute(bytes);
            _roots[id] = bytes;
            v.Base = id.ToString();
            v.Changes.Clear();
            return Task.FromResult(new SnapshotInfo(id.ToString(), v.Geometry.VolumeSize, v.Geometry.ChunkSize, pageNames.Length, v.Id, label, false, [], DateTimeOffset.UtcNow));
        }
    }

    private async Task MaybeHang(CancellationToken cancellationToken)
    {
        if (Hang is { } hang)
        {
            await hang.Task.WaitAsync(cancellationToken);
        }
    }

    private sealed class Volume(string id, ChunkGeometry geometry, string? baseSnapshot)
    {
        public string Id { get; } = id;

        public ChunkGeometry Geometry { get; } = geometry;

        public string? Base { get; set; } = baseSnapshot;

        public Dictionary<long, Digest> Changes { get; } = [];

        public VolumeInfo Info() => new(Id, Geometry.VolumeSize, Geometry.ChunkSize, Base, null, Changes.Count, DateTimeOffset.UnixEpoch);
    }
}
