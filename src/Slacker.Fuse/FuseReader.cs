using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Slacker.Native;
using Slacker.Fuse.Protocol;

namespace Slacker.Fuse;

/// <summary>
/// One serving thread with its own /dev/fuse fd (the master or a clone) and its own native buffers. The kernel
/// looks a reply up in the processing queue of the fd it is written to, so a reader answers on the fd it read.
/// The thread owns the fd: it closes it when the connection ends, never while a read(2) is blocked on it.
/// </summary>
internal sealed unsafe class FuseReader
{
    private readonly int _fd;
    private readonly FuseRequestProcessor _processor;
    private readonly ILogger _logger;
    private readonly int _maxWrite;
    private readonly Thread _thread;
    private long _allocatedBytes;
    private long _requests;

    public FuseReader(int fd, int index, FuseRequestProcessor processor, ILogger logger, int maxWrite)
    {
        _fd = fd;
        _processor = processor;
        _logger = logger;
        _maxWrite = maxWrite;
        _thread = new Thread(Run) { IsBackground = true, Name = $"fuse-reader-{index}" };
    }

    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    public bool IsAlive => _thread.IsAlive;

    /// <summary>GC bytes this thread allocated since it started serving (published after every request).</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    /// <summary>Requests this reader took off its fd.</summary>
    public long Requests => Volatile.Read(ref _requests);

    public void Start() => _thread.Start();

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    private void Run()
    {
        var pageSize = Environment.SystemPageSize;

        // Request buffer: read(2) lands at (page - 80) so that a WRITE's data, after in_header + write_in,
        // starts page-aligned. Kernel rule: room >= max(8192, 80 + max_write), libfuse gives max_write + 4 KiB.
        var requestRoom = Math.Max(FuseConstants.MinReadBuffer, _maxWrite + FuseConstants.BufferHeaderSize);
        var requestAllocation = (nuint)(pageSize + requestRoom);
        var writeHeaders = FuseConstants.InHeaderSize + System.Runtime.CompilerServices.Unsafe.SizeOf<FuseWriteIn>();

        // Reply buffer: out_header right before a page boundary so READ data (up to max_read = max_write)
        // starts page-aligned, and header + data leave in one write(2).
        var replyRoom = FuseConstants.OutHeaderSize + _maxWrite;
        var replyAllocation = (nuint)(pageSize + _maxWrite);

        byte* requestBase = null;
        byte* replyBase = null;
        try
        {
            requestBase = (byte*)NativeMemory.AlignedAlloc(requestAllocation, (nuint)pageSize);
            replyBase = (byte*)NativeMemory.AlignedAlloc(replyAllocation, (nuint)pageSize);
            SetIoFlusher();
            Serve(requestBase + pageSize - writeHeaders, requestRoom, replyBase + pageSize - FuseConstants.OutHeaderSize, replyRoom);
        }
        catch (Exception exception)
        {
            _logger.LogCritical(exception, "FUSE reader {Thread} failed; this fd stops serving.", _thread.Name);
        }
        finally
        {
            Libc.Close(_fd);
            NativeMemory.AlignedFree(requestBase);
            NativeMemory.AlignedFree(replyBase);
        }
    }

    private void Serve(byte* request, int requestRoom, byte* reply, int replyRoom)
    {
        var baseline = GC.GetAllocatedBytesForCurrentThread();
        while (true)
        {
            var read = Libc.Read(_fd, request, (nuint)requestRoom);
            if (read < 0)
            {
                var errno = Libc.LastErrno;
                switch (errno)
                {
                    case Libc.EINTR:
                    case Libc.EAGAIN:
                    // The request was interrupted or aborted while being handed to us.
                    case Libc.ENOENT:
                        continue;
                    case Libc.ENODEV:
                        // Unmounted (last reference gone) or aborted: the normal end of a session.
                        return;
                    default:
                        _logger.LogError(
                            "read(/dev/fuse) failed on {Thread}: {Error}; this reader stops.", _thread.Name, Libc.ErrnoText(errno));
                        return;
                }
            }

            if (read == 0)
            {
                _logger.LogError("read(/dev/fuse) returned 0 bytes on {Thread}; this reader stops.", _thread.Name);
                return;
            }

            Volatile.Write(ref _requests, _requests + 1);
            var length = _processor.Process(new ReadOnlySpan<byte>(request, (int)read), new Span<byte>(reply, replyRoom));
            if (length > 0 && !Reply(reply, length))
            {
                return;
            }

            Volatile.Write(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread() - baseline);
        }
    }

    /// <returns>false when the connection is gone and the reader should stop.</returns>
    private bool Reply(byte* reply, int length)
    {
        while (true)
        {
            var written = Libc.Write(_fd, reply, (nuint)length);
            if (written >= 0)
            {
                return true;
            }

            var errno = Libc.LastErrno;
            switch (errno)
            {
                case Libc.EINTR:
                    continue;
                case Libc.ENOENT:
                    // The request was interrupted or the connection aborted meanwhile: nobody waits for it.
                    return true;
                case Libc.ENODEV:
                    return false;
                default:
                    _logger.LogError(
                        "write(/dev/fuse) of a {Length}-byte reply failed on {Thread}: {Error}.",
                        length,
                        _thread.Name,
                        Libc.ErrnoText(errno));
                    return true;
            }
        }
    }

    private void SetIoFlusher()
    {
        // Memory reclaim may wait on writeback that only this thread can complete (ext4 -> loop -> FUSE);
        // PR_SET_IO_FLUSHER keeps this thread's own allocations from recursing into that writeback.
        if (Libc.Prctl(Libc.PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0)
        {
            _logger.LogWarning(
                "prctl(PR_SET_IO_FLUSHER) failed on {Thread}: {Error}. Serving continues, but a loop device on this " +
                "mount may deadlock under memory pressure; run as root (CAP_SYS_RESOURCE).",
                _thread.Name,
                Libc.ErrnoText(Libc.LastErrno));
        }
    }
}
