namespace Slacker.Fuse.Tests;

/// <summary>
/// In-memory IFuseFile: the thing under test is the FUSE server, so the file behind it is a byte array with
/// counters and optional fault hooks. Allocation-free on the read/write path.
/// </summary>
internal sealed class MemoryFile : IFuseFile
{
    private readonly byte[] _data;
    private int _fsyncs;
    private int _fdatasyncs;
    private int _flushes;

    public MemoryFile(int size, bool readOnly = false)
    {
        _data = new byte[size];
        ReadOnly = readOnly;
    }

    public long Size => _data.Length;

    public bool ReadOnly { get; }

    public byte[] Data => _data;

    /// <summary>Runs before every read; a negative return is handed back as the read's errno.</summary>
    public Func<long, int>? BeforeRead { get; init; }

    /// <summary>Runs before every write; a negative return is handed back as the write's errno.</summary>
    public Func<long, int>? BeforeWrite { get; init; }

    public int FsyncCount => Volatile.Read(ref _fsyncs);

    public int FdatasyncCount => Volatile.Read(ref _fdatasyncs);

    public int FlushCount => Volatile.Read(ref _flushes);

    public int Read(long offset, Span<byte> destination)
    {
        var hook = BeforeRead?.Invoke(offset) ?? 0;
        if (hook < 0)
        {
            return hook;
        }

        var count = (int)Math.Min(destination.Length, Math.Max(0, _data.Length - offset));
        _data.AsSpan((int)offset, count).CopyTo(destination);
        return count;
    }

    public int Write(long offset, ReadOnlySpan<byte> source)
    {
        var hook = BeforeWrite?.Invoke(offset) ?? 0;
        if (hook < 0)
        {
            return hook;
        }

        source.CopyTo(_data.AsSpan((int)offset));
        return source.Length;
    }

    public int Fsync(bool dataOnly)
    {
        Interlocked.Increment(ref dataOnly ? ref _fdatasyncs : ref _fsyncs);
        return 0;
    }

    public int Flush()
    {
        Interlocked.Increment(ref _flushes);
        return 0;
    }
}
