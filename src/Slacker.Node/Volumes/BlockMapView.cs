using System.Runtime.InteropServices;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Node.Cache;

namespace Slacker.Node.Volumes;

/// <summary>
/// The read-only chunk index -> digest map under a lazy volume: a snapshot root (verified against the snapshot
/// id at load) whose pages are fetched on first use and verified against their names, plus the volume's own
/// server-side changes since that snapshot. Immutable once built; a commit swaps in a new view.
/// </summary>
internal sealed class BlockMapView
{
    private readonly Digest[] _pageNames;
    private readonly Digest[]?[] _pages;
    private readonly Dictionary<long, Digest>? _overrides;
    private readonly ChunkFetcher _fetcher;

    private BlockMapView(ChunkGeometry geometry, Digest? snapshot, Digest[] pageNames, Dictionary<long, Digest>? overrides, ChunkFetcher fetcher)
    {
        Geometry = geometry;
        Snapshot = snapshot;
        _pageNames = pageNames;
        _pages = new Digest[]?[pageNames.Length];
        _overrides = overrides is { Count: > 0 } ? overrides : null;
        _fetcher = fetcher;
    }

    public ChunkGeometry Geometry { get; }

    public Digest? Snapshot { get; }

    public static async Task<BlockMapView> LoadAsync(
        ChunkGeometry geometry, Digest? snapshot, IReadOnlyList<BlockMapEntry>? changes, ChunkFetcher fetcher, CancellationToken cancellationToken)
    {
        Digest[] pageNames;
        if (snapshot is { } id)
        {
            var root = await fetcher.GetRootAsync(id, cancellationToken);
            if (root.Geometry != geometry)
            {
                throw new InvalidDataException($"Snapshot {id} describes {root.Geometry.VolumeSize} bytes in {root.Geometry.ChunkSize}-byte chunks, but the volume is {geometry.VolumeSize} bytes in {geometry.ChunkSize}-byte chunks.");
            }

            pageNames = root.Pages.ToArray();
        }
        else
        {
            pageNames = new Digest[geometry.PageCount];
        }

        Dictionary<long, Digest>? overrides = null;
        if (changes is { Count: > 0 })
        {
            overrides = new Dictionary<long, Digest>(changes.Count);
            foreach (var change in changes)
            {
                if (change.Index < 0 || change.Index >= geometry.ChunkCount)
                {
                    throw new InvalidDataException($"The server's change list names chunk {change.Index}, outside the volume's {geometry.ChunkCount} chunks.");
                }

                overrides[change.Index] = change.Digest is null ? Digest.Zero : Digest.Parse(change.Digest);
            }
        }

        return new BlockMapView(geometry, snapshot, pageNames, overrides, fetcher);
    }

    /// <summary>The digest of chunk <paramref name="index"/>; may block to fetch its page (throws on failure).</summary>
    public Digest Get(long index)
    {
        if (_overrides is not null && _overrides.TryGetValue(index, out var changed))
        {
            return changed;
        }

        var pageIndex = ChunkGeometry.PageOf(index);
        var page = Volatile.Read(ref _pages[pageIndex]) ?? LoadPage(pageIndex);
        return page.Length == 0 ? Digest.Zero : page[ChunkGeometry.SlotOf(index)];
    }

    /// <summary>Like <see cref="Get"/> but never blocks: false when the page is not loaded yet (read-ahead skips it).</summary>
    public bool TryGetLoaded(long index, out Digest digest)
    {
        if (_overrides is not null && _overrides.TryGetValue(index, out digest))
        {
            return true;
        }

        var pageIndex = ChunkGeometry.PageOf(index);
        if (_pageNames[pageIndex].IsZero)
        {
            digest = Digest.Zero;
            return true;
        }

        var page = Volatile.Read(ref _pages[pageIndex]);
        digest = page is null ? default : page[ChunkGeometry.SlotOf(index)];
        return page is not null;
    }

    private Digest[] LoadPage(int pageIndex)
    {
        var name = _pageNames[pageIndex];
        var page = name.IsZero ? [] : MemoryMarshal.Cast<byte, Digest>(_fetcher.GetPage(name)).ToArray();
        Interlocked.CompareExchange(ref _pages[pageIndex], page, null);
        return _pages[pageIndex]!;
    }
}
