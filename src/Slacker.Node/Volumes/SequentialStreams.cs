namespace Slacker.Node.Volumes;

/// <summary>
/// The read-ahead policy of one volume, modelled on the kernel's: a small fixed table of the streams seen
/// recently. A read that starts a new stream gets no read-ahead at all (a container reads a few percent of its
/// image, scattered, and anything fetched beyond the request is mostly waste). A read that continues a stream
/// keeps a window of chunks requested ahead of it, half as large as what the stream has read so far (so it
/// doubles as the stream doubles) up to a maximum. Because the window never exceeds half of what the stream
/// consumed, read-ahead adds at most 50 % to the bytes a stream reads, which leaves room under the node's budget
/// (fetched at most twice what the kernel read) for rounding every read up to whole chunks. Because each stream
/// has its own slot, interleaved readers (several files, several containers of one volume) each keep their window.
/// </summary>
/// <remarks>
/// The loop device hands one sequential stream over as several concurrent FUSE reads that arrive in any order
/// (ext4's read-ahead cut into pieces, served by several threads), so a stream accepts reads that land a little
/// before its start or a little past its end, and only forward progress grows it. Allocation-free; one short
/// lock per read.
/// </remarks>
internal sealed class SequentialStreams
{
    /// <summary>How many streams one volume tracks (the least recently used is replaced).</summary>
    public const int DefaultStreams = 16;

    private readonly Entry[] _streams;
    private readonly Lock _lock = new();
    private readonly int _chunkShift;
    private readonly long _tolerance;
    private long _clock;

    /// <param name="chunkShift">log2 of the chunk size.</param>
    /// <param name="maxWindowChunks">The largest window a stream grows to; 0 turns read-ahead off.</param>
    /// <param name="streams">Table size.</param>
    /// <param name="toleranceBytes">How far before a stream's start or past its end a read may land and still belong to it.</param>
    public SequentialStreams(int chunkShift, int maxWindowChunks, int streams = DefaultStreams, long toleranceBytes = 256 << 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxWindowChunks);
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(toleranceBytes);
        _chunkShift = chunkShift;
        MaxWindowChunks = maxWindowChunks;
        _tolerance = toleranceBytes;
        _streams = new Entry[streams];
    }

    public int MaxWindowChunks { get; }

    /// <summary>
    /// Records a read of bytes [<paramref name="offset"/>, <paramref name="end"/>) and returns the chunks to
    /// request ahead of it now, without waiting (empty for a new stream, for a read that makes no progress, and
    /// while the stream is still more than half a window ahead of the reader). Every chunk is returned once per
    /// stream: the caller fetches what it gets.
    /// </summary>
    public ChunkRange OnRead(long offset, long end)
    {
        if (end <= offset || MaxWindowChunks == 0)
        {
            return ChunkRange.Empty;
        }

        lock (_lock)
        {
            var clock = ++_clock;
            var slot = Find(offset, end);
            if (slot < 0)
            {
                Start(Victim(), offset, end, clock);
                return ChunkRange.Empty;
            }

            ref var stream = ref _streams[slot];
            stream.LastUse = clock;
            if (offset < stream.Start)
            {
                // An earlier piece of the same stream that arrived late.
                stream.Consumed += Math.Min(end, stream.Start) - offset;
                stream.Start = offset;
            }

            if (end <= stream.Next)
            {
                return ChunkRange.Empty; // a re-read: no progress, no growth
            }

            stream.Consumed += end - Math.Max(offset, stream.Next);
            stream.Next = end;

            // Whole chunks, rounded down: ahead bytes stay below half the consumed bytes, whatever the chunk size.
            var window = Math.Min(MaxWindowChunks, (stream.Consumed >> _chunkShift) / 2);
            var readEnd = ((end - 1) >> _chunkShift) + 1;
            if (stream.AheadEnd < readEnd)
            {
                stream.AheadEnd = readEnd;
            }

            // Top up when the reader has crossed the middle of its window, so that each request is at least half a
            // window large and the next one is under way before the reader gets there.
            var lead = stream.AheadEnd - readEnd;
            if (window == 0 || lead * 2 > window)
            {
                return ChunkRange.Empty;
            }

            var first = stream.AheadEnd;
            stream.AheadEnd = readEnd + window;
            return new ChunkRange(first, stream.AheadEnd);
        }
    }

    /// <summary>The stream whose end is nearest to the read, among those it may belong to; -1 for none.</summary>
    private int Find(long offset, long end)
    {
        var best = -1;
        var bestDistance = long.MaxValue;
        for (var i = 0; i < _streams.Length; i++)
        {
            ref var stream = ref _streams[i];
            if (stream.LastUse == 0 || offset > stream.Next + _tolerance || end < stream.Start - _tolerance)
            {
                continue;
            }

            var distance = Math.Abs(offset - stream.Next);
            if (distance < bestDistance)
            {
                best = i;
                bestDistance = distance;
            }
        }

        return best;
    }

    private int Victim()
    {
        var victim = 0;
        for (var i = 1; i < _streams.Length; i++)
        {
            if (_streams[i].LastUse < _streams[victim].LastUse)
            {
                victim = i;
            }
        }

        return victim;
    }

    private void Start(int slot, long offset, long end, long clock) => _streams[slot] = new Entry
    {
        Start = offset,
        Next = end,
        Consumed = end - offset,
        AheadEnd = ((end - 1) >> _chunkShift) + 1,
        LastUse = clock,
    };

    private struct Entry
    {
        /// <summary>Lowest byte offset read by the stream.</summary>
        public long Start;

        /// <summary>Where the stream's next read is expected: the end of its furthest read.</summary>
        public long Next;

        /// <summary>Bytes the stream read (gaps it skipped do not count).</summary>
        public long Consumed;

        /// <summary>First chunk not yet requested on the stream's behalf.</summary>
        public long AheadEnd;

        /// <summary>Logical clock of the last read; 0 marks a free slot.</summary>
        public long LastUse;
    }
}
