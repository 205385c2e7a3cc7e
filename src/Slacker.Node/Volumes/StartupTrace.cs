namespace Slacker.Node.Volumes;

/// <summary>
/// The chunks of a volume's base snapshot in the order the kernel first reads them, for a while after attach:
/// what a container needs to start. Touch is called on every read of a snapshot chunk, on the FUSE threads, so it
/// allocates nothing and takes no lock: a bitset says whether a chunk was seen, and a slot in a fixed array is
/// claimed with one atomic increment.
/// </summary>
internal sealed class StartupTrace
{
    /// <summary>A profile names at most this many chunks (2 GiB of 64 KiB chunks): a startup, not a whole image.</summary>
    public const int MaxChunks = 32 * 1024;

    private readonly ulong[] _seen;
    private readonly int[] _order;
    private readonly long _deadline;
    private int _count;
    private volatile bool _closed;

    public StartupTrace(long chunkCount, TimeSpan window)
    {
        _seen = new ulong[(chunkCount + 63) / 64];
        _order = new int[(int)Math.Min(chunkCount, MaxChunks)];
        Array.Fill(_order, -1);
        _deadline = Environment.TickCount64 + (long)window.TotalMilliseconds;
    }

    /// <summary>True once the window is over, the trace is full, or it was closed: Touch records nothing more.</summary>
    public bool IsClosed => _closed || Environment.TickCount64 > _deadline;

    public void Touch(long index)
    {
        if (_closed)
        {
            return;
        }

        if (Environment.TickCount64 > _deadline)
        {
            _closed = true;
            return;
        }

        var bit = 1UL << (int)(index & 63);
        if ((Interlocked.Or(ref _seen[index >> 6], bit) & bit) != 0)
        {
            return;
        }

        var slot = Interlocked.Increment(ref _count) - 1;
        if (slot < _order.Length)
        {
            Volatile.Write(ref _order[slot], (int)index);
        }
        else
        {
            _closed = true;
        }
    }

    /// <summary>Stops recording and returns the chunks in first-read order.</summary>
    public List<long> Close()
    {
        _closed = true;
        var count = Math.Min(Volatile.Read(ref _count), _order.Length);
        var chunks = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            // A slot claimed by a Touch that has not written it yet is still -1: that one chunk is left out.
            if (Volatile.Read(ref _order[i]) is >= 0 and var index)
            {
                chunks.Add(index);
            }
        }

        return chunks;
    }
}
