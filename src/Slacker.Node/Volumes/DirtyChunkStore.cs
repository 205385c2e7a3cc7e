using System.Buffers;
using System.Buffers.Binary;
using Slacker.Core.Model;
using Slacker.Native;

namespace Slacker.Node.Volumes;

/// <summary>
/// A volume's copy-on-write chunks on local disk: <c>data</c>, a sparse file as large as the volume in which a
/// dirty chunk lives at its own offset, and <c>journal</c>, an append-only list of the chunk indexes that are
/// dirty. <see cref="Sync"/> makes the data durable first and only then appends the journal records that name
/// it, so after a crash every index in the journal points at complete, fsynced bytes: what was fsynced is never
/// lost, and a chunk whose first write was not fsynced falls back to its base content.
/// <para>
/// A journal record is 16 bytes: the index and the index XOR a constant. A torn or zero-filled tail (a crash
/// while appending) fails that check and is cut off at open.
/// </para>
/// </summary>
internal sealed unsafe class DirtyChunkStore : IDisposable
{
    private const int RecordSize = 16;
    private const ulong RecordCheck = 0x534C_4B4A_524E_4C31; // "SLKJRNL1"

    private readonly string _directory;
    private readonly ulong[] _bits;
    private readonly Lock _syncLock = new();
    private readonly Lock _pendingLock = new();
    private List<long> _pending = [];
    private int _dataFd;
    private int _journalFd;
    private long _journalLength;
    private long _count;
    private long _records;

    private DirtyChunkStore(string directory, ChunkGeometry geometry)
    {
        _directory = directory;
        Geometry = geometry;
        _bits = new ulong[(geometry.ChunkCount + 63) / 64];
    }

    public ChunkGeometry Geometry { get; }

    public long Count => Interlocked.Read(ref _count);

    private string DataPath => Path.Combine(_directory, "data");

    private string JournalPath => Path.Combine(_directory, "journal");

    /// <summary>Opens or creates the store and replays its journal.</summary>
    public static DirtyChunkStore Open(string directory, ChunkGeometry geometry)
    {
        Directory.CreateDirectory(directory);
        var store = new DirtyChunkStore(directory, geometry);
        try
        {
            store.OpenFiles();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public bool IsDirty(long index) => (Volatile.Read(ref _bits[index >> 6]) & (1UL << (int)(index & 63))) != 0;

    /// <summary>Every dirty index, ascending.</summary>
    public List<long> DirtyIndexes()
    {
        var list = new List<long>((int)Math.Min(Count, int.MaxValue));
        for (var w = 0; w < _bits.Length; w++)
        {
            var word = Volatile.Read(ref _bits[w]);
            while (word != 0)
            {
                var bit = System.Numerics.BitOperations.TrailingZeroCount(word);
                list.Add(((long)w << 6) + bit);
                word &= word - 1;
            }
        }

        return list;
    }

    public void Read(long index, int offset, Span<byte> destination) =>
        PreadExact(_dataFd, destination, Geometry.OffsetOf(index) + offset, "reading dirty chunk " + index);

    public void Write(long index, int offset, ReadOnlySpan<byte> source)
    {
        var position = Geometry.OffsetOf(index) + offset;
        fixed (byte* p = source)
        {
            var done = 0;
            while (done < source.Length)
            {
                var n = Libc.Pwrite(_dataFd, p + done, (nuint)(source.Length - done), position + done);
                if (n < 0)
                {
                    var errno = Libc.LastErrno;
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    throw new IOException($"Writing dirty chunk {index} to {DataPath} failed: {Libc.ErrnoText(errno)}. Free space on the node's disk.");
                }

                done += (int)n;
            }
        }
    }

    /// <summary>Call after the chunk's complete bytes are in the data file; the next <see cref="Sync"/> journals it.</summary>
    public void MarkDirty(long index)
    {
        var mask = 1UL << (int)(index & 63);
        if ((Interlocked.Or(ref _bits[index >> 6], mask) & mask) != 0)
        {
            return;
        }

        Interlocked.Increment(ref _count);
        lock (_pendingLock)
        {
            _pending.Add(index);
        }
    }

    /// <summary>Clears the bit only; the journal forgets the index at the next <see cref="Compact"/>.</summary>
    public bool MarkClean(long index)
    {
        var mask = 1UL << (int)(index & 63);
        if ((Interlocked.And(ref _bits[index >> 6], ~mask) & mask) == 0)
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Makes every completed write durable: data first, then the journal records that point at it.</summary>
    public void Sync()
    {
        lock (_syncLock)
        {
            Check(Libc.Fdatasync(_dataFd), "fdatasync " + DataPath);
            List<long> pending;
            lock (_pendingLock)
            {
                if (_pending.Count == 0)
                {
                    return;
                }

                pending = _pending;
                _pending = [];
            }

            AppendRecords(pending);
        }
    }

    /// <summary>
    /// Rewrites the journal to name exactly the chunks dirty now (after a commit cleaned some), then punches
    /// the cleaned chunks out of the data file. Crash-safe at every step: until the new journal is renamed in,
    /// the old one names chunks whose data is still there.
    /// </summary>
    public void Compact(IReadOnlyCollection<long> cleaned, Func<long, Lock> lockFor)
    {
        lock (_syncLock)
        {
            Check(Libc.Fdatasync(_dataFd), "fdatasync " + DataPath);
            lock (_pendingLock)
            {
                _pending = [];
            }

            var dirty = DirtyIndexes();
            var temp = JournalPath + ".tmp";
            var bytes = new byte[dirty.Count * RecordSize];
            for (var i = 0; i < dirty.Count; i++)
            {
                EncodeRecord(dirty[i], bytes.AsSpan(i * RecordSize));
            }

            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, JournalPath, overwrite: true);
            FsyncDirectory(_directory);
            Libc.Close(_journalFd);
            _journalFd = OpenFile(JournalPath);
            _journalLength = bytes.Length;
            _records = dirty.Count;
        }

        foreach (var index in cleaned)
        {
            lock (lockFor(index))
            {
                if (!IsDirty(index))
                {
                    // Give the space back; a later first write rewrites the whole chunk anyway.
                    Libc.Fallocate(_dataFd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, Geometry.OffsetOf(index), Geometry.ChunkSize);
                }
            }
        }
    }

    public void Dispose()
    {
        if (_dataFd > 0)
        {
            Libc.Close(_dataFd);
            _dataFd = -1;
        }

        if (_journalFd > 0)
        {
            Libc.Close(_journalFd);
            _journalFd = -1;
        }
    }

    private void OpenFiles()
    {
        _dataFd = OpenFile(DataPath);
        var size = Libc.Lseek(_dataFd, 0, 2 /* SEEK_END */);
        if (size != Geometry.VolumeSize)
        {
            Check(Libc.Ftruncate(_dataFd, Geometry.VolumeSize), "ftruncate " + DataPath);
        }

        _journalFd = OpenFile(JournalPath);
        var journal = File.ReadAllBytes(JournalPath);
        var valid = 0;
        while (valid + RecordSize <= journal.Length)
        {
            var index = BinaryPrimitives.ReadInt64LittleEndian(journal.AsSpan(valid));
            var check = BinaryPrimitives.ReadUInt64LittleEndian(journal.AsSpan(valid + 8));
            if (check != ((ulong)index ^ RecordCheck) || index < 0 || index >= Geometry.ChunkCount)
            {
                break;
            }

            var mask = 1UL << (int)(index & 63);
            if ((_bits[index >> 6] & mask) == 0)
            {
                _bits[index >> 6] |= mask;
                _count++;
            }

            valid += RecordSize;
            _records++;
        }

        if (valid != journal.Length)
        {
            // A torn append from a crash: it was never acknowledged by an fsync, so dropping it loses nothing.
            Check(Libc.Ftruncate(_journalFd, valid), "ftruncate " + JournalPath);
        }

        _journalLength = valid;
        if (_records > (2 * _count) + 4096)
        {
            Compact([], _ => _syncLock);
        }
    }

    private void AppendRecords(List<long> indexes)
    {
        var length = indexes.Count * RecordSize;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            for (var i = 0; i < indexes.Count; i++)
            {
                EncodeRecord(indexes[i], buffer.AsSpan(i * RecordSize));
            }

            fixed (byte* p = buffer)
            {
                var done = 0;
                while (done < length)
                {
                    var n = Libc.Pwrite(_journalFd, p + done, (nuint)(length - done), _journalLength + done);
                    if (n < 0)
                    {
                        var errno = Libc.LastErrno;
                        if (errno == Libc.EINTR)
                        {
                            continue;
                        }

                        throw new IOException($"Appending to {JournalPath} failed: {Libc.ErrnoText(errno)}. Free space on the node's disk.");
                    }

                    done += (int)n;
                }
            }

            Check(Libc.Fdatasync(_journalFd), "fdatasync " + JournalPath);
            _journalLength += length;
            _records += indexes.Count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void EncodeRecord(long index, Span<byte> record)
    {
        BinaryPrimitives.WriteInt64LittleEndian(record, index);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], (ulong)index ^ RecordCheck);
    }

    private static void PreadExact(int fd, Span<byte> destination, long position, string what)
    {
        fixed (byte* p = destination)
        {
            var done = 0;
            while (done < destination.Length)
            {
                var n = Libc.Pread(fd, p + done, (nuint)(destination.Length - done), position + done);
                if (n < 0)
                {
                    var errno = Libc.LastErrno;
                    if (errno == Libc.EINTR)
                    {
                        continue;
                    }

                    throw new IOException($"{what} failed: {Libc.ErrnoText(errno)}.");
                }

                if (n == 0)
                {
                    destination[done..].Clear();
                    return;
                }

                done += (int)n;
            }
        }
    }

    private static int OpenFile(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0)
        {
            throw new IOException($"Opening {path} failed: {Libc.ErrnoText(Libc.LastErrno)}.");
        }

        return fd;
    }

    internal static void FsyncDirectory(string directory)
    {
        var fd = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd >= 0)
        {
            Libc.Fsync(fd);
            Libc.Close(fd);
        }
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new IOException($"{what} failed: {Libc.ErrnoText(Libc.LastErrno)}.");
        }
    }
}
