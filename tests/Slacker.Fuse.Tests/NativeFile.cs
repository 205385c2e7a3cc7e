using System.Runtime.InteropServices;
using Slacker.Native;

namespace Slacker.Fuse.Tests;

/// <summary>
/// A file opened with open(2) (optionally O_DIRECT) and an aligned buffer, so tests see raw syscall results and
/// errnos instead of .NET's exception mapping.
/// </summary>
internal sealed unsafe class NativeFile : IDisposable
{
    private readonly int _fd;
    private readonly byte* _buffer;
    private readonly int _capacity;

    public NativeFile(string path, bool direct, bool writable = true, int capacity = 1 << 20)
    {
        var flags = (writable ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_CLOEXEC | (direct ? Libc.O_DIRECT : 0);
        _fd = Libc.Open(path, flags);
        if (_fd < 0)
        {
            throw new IOException($"open({path}) failed: {Libc.ErrnoText(Libc.LastErrno)}");
        }

        _capacity = capacity;
        _buffer = (byte*)NativeMemory.AlignedAlloc((nuint)capacity, 4096);
    }

    public Span<byte> Buffer => new(_buffer, _capacity);

    /// <summary>pread into Buffer; returns bytes read, or -errno.</summary>
    public int ReadAt(long offset, int length)
    {
        var result = Libc.Pread(_fd, _buffer, (nuint)length, offset);
        return result < 0 ? -Libc.LastErrno : (int)result;
    }

    /// <summary>pwrite from Buffer; returns bytes written, or -errno.</summary>
    public int WriteAt(long offset, int length)
    {
        var result = Libc.Pwrite(_fd, _buffer, (nuint)length, offset);
        return result < 0 ? -Libc.LastErrno : (int)result;
    }

    public int Fdatasync() => Libc.Fdatasync(_fd) == 0 ? 0 : -Libc.LastErrno;

    public void Dispose()
    {
        Libc.Close(_fd);
        NativeMemory.AlignedFree(_buffer);
    }
}
