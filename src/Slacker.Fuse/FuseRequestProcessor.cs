using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Slacker.Native;
using Slacker.Fuse.Protocol;

namespace Slacker.Fuse;

/// <summary>
/// Turns one request (as read from /dev/fuse) into one reply, for a one-file tree. Shared by all reader threads;
/// holds no per-request state and allocates nothing on the success path.
/// </summary>
internal sealed class FuseRequestProcessor
{
    /// <summary>Returned by <see cref="Process"/> when the opcode takes no reply (FORGET, INTERRUPT).</summary>
    public const int NoReply = 0;

    private const int PayloadOffset = FuseConstants.OutHeaderSize;

    /// <summary>Dispatch result for opcodes that take no reply.</summary>
    private const int Silent = int.MinValue;

    /// <summary>The kernel accepts reply errors only in (-512, 0).</summary>
    private const int MaxErrno = 511;

    private readonly IFuseFile _file;
    private readonly OneFileTree _tree;
    private readonly FuseSessionStats _stats;
    private readonly ILogger _logger;
    private readonly int _maxWrite;
    private readonly int _pageSize;
    private readonly int _maxPagesLimit;
    private readonly TaskCompletionSource<FuseConnectionInfo> _initialized =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FuseRequestProcessor(
        IFuseFile file,
        OneFileTree tree,
        FuseSessionStats stats,
        ILogger logger,
        int maxWrite,
        int pageSize,
        int maxPagesLimit)
    {
        _file = file;
        _tree = tree;
        _stats = stats;
        _logger = logger;
        _maxWrite = maxWrite;
        _pageSize = pageSize;
        _maxPagesLimit = maxPagesLimit;
    }

    /// <summary>Completes when FUSE_INIT was answered successfully; faults when the kernel's INIT was refused.</summary>
    public Task<FuseConnectionInfo> Initialized => _initialized.Task;

    /// <summary>
    /// Handles one request. <paramref name="reply"/> is the reply buffer: out_header at 0, payload from 16 (the
    /// caller page-aligns that payload so IFuseFile.Read can use O_DIRECT on its side). Returns the reply length,
    /// or <see cref="NoReply"/>.
    /// </summary>
    public int Process(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        if (request.Length < FuseConstants.InHeaderSize)
        {
            _logger.LogError("FUSE request of {Length} bytes is shorter than fuse_in_header; dropped.", request.Length);
            return NoReply;
        }

        var header = MemoryMarshal.Read<FuseInHeader>(request);
        var body = request[FuseConstants.InHeaderSize..];
        var payload = reply[PayloadOffset..];
        var opcode = (FuseOpcode)header.Opcode;

        int result;
        if (header.Len != (uint)request.Length)
        {
            _logger.LogError(
                "FUSE request {Opcode} claims {Claimed} bytes but {Read} were read; answering EIO.",
                opcode,
                header.Len,
                request.Length);
            result = -Libc.EIO;
        }
        else
        {
            result = Dispatch(opcode, in header, body, payload);
        }

        if (result == Silent)
        {
            return NoReply;
        }

        return Finish(reply, header.Unique, result);
    }

    private int Dispatch(FuseOpcode opcode, in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        switch (opcode)
        {
            case FuseOpcode.Read:
                return Read(in header, body, payload);
            case FuseOpcode.Write:
                return Write(in header, body, payload);
            case FuseOpcode.Fsync:
                _stats.CountSync();
                return Fsync(in header, body);
            case FuseOpcode.Flush:
                _stats.CountSync();
                return header.NodeId == OneFileTree.FileNode ? CallFile(FileCall.Flush) : 0;
            case FuseOpcode.Interrupt:
                // Handlers run to completion (the loop driver never interrupts); the kernel accepts silence.
                _stats.CountInterrupt();
                return Silent;
            case FuseOpcode.Forget:
            case FuseOpcode.BatchForget:
                // Node ids are fixed; there is no lookup count to drop, and these take no reply.
                _stats.CountMetadata();
                return Silent;
            case FuseOpcode.Init:
                _stats.CountMetadata();
                return Init(body, payload);
            case FuseOpcode.Lookup:
                _stats.CountMetadata();
                return Lookup(in header, body, payload);
            case FuseOpcode.Getattr:
                _stats.CountMetadata();
                return Getattr(header.NodeId, payload);
            case FuseOpcode.Setattr:
                _stats.CountMetadata();
                return Setattr(in header, body, payload);
            case FuseOpcode.Open:
                _stats.CountMetadata();
                return Open(in header, body, payload);
            case FuseOpcode.Opendir:
                _stats.CountMetadata();
                return Opendir(in header, payload);
            case FuseOpcode.Readdir:
                _stats.CountMetadata();
                return Readdir(in header, body, payload);
            case FuseOpcode.Release:
            case FuseOpcode.Releasedir:
            case FuseOpcode.Destroy:
                _stats.CountMetadata();
                return 0;
            case FuseOpcode.Statfs:
                _stats.CountMetadata();
                return Statfs(payload);
            case FuseOpcode.Access:
                _stats.CountMetadata();
                return Access(in header, body);
            default:
                // FALLOCATE, LSEEK, xattrs, locks, CREATE & co: ENOSYS makes the kernel remember and stop asking.
                _stats.CountUnsupported();
                return -Libc.ENOSYS;
        }
    }

    private int Init(ReadOnlySpan<byte> body, Span<byte> payload)
    {
        // Kernels before 7.36 send a shorter fuse_init_in; the missing tail reads as zero.
        Span<byte> padded = stackalloc byte[Unsafe.SizeOf<FuseInitIn>()];
        padded.Clear();
        body[..Math.Min(body.Length, padded.Length)].CopyTo(padded);
        var request = MemoryMarshal.Read<FuseInitIn>(padded);

        var error = FuseInitNegotiation.Negotiate(
            in request, _maxWrite, _pageSize, _maxPagesLimit, out var reply, out var replySize, out var done, out var info);
        if (error != 0)
        {
            var failure = new IOException(
                $"The kernel speaks FUSE {request.Major}.{request.Minor}; this server needs 7.{FuseConstants.MinimumKernelMinorVersion} or newer.");
            _logger.LogError(failure, "FUSE_INIT refused.");
            _initialized.TrySetException(failure);
            return error;
        }

        MemoryMarshal.Write(payload, in reply);
        if (done)
        {
            _logger.LogDebug(
                "FUSE_INIT: kernel {Major}.{Minor}, flags {Flags}, max_write {MaxWrite}, max_pages {MaxPages}.",
                info.KernelMajor,
                info.KernelMinor,
                info.Flags,
                info.MaxWrite,
                info.MaxPages);
            _initialized.TrySetResult(info);
        }

        return replySize;
    }

    private int Lookup(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (header.NodeId != OneFileTree.RootNode)
        {
            return -Libc.ENOTDIR;
        }

        var end = body.IndexOf((byte)0);
        var name = end >= 0 ? body[..end] : body;
        if (!name.SequenceEqual(_tree.FileName) || !_tree.TryGetAttr(OneFileTree.FileNode, out var attr))
        {
            return -Libc.ENOENT;
        }

        var entry = new FuseEntryOut
        {
            NodeId = OneFileTree.FileNode,
            Generation = 1,
            EntryValid = OneFileTree.ValiditySeconds,
            AttrValid = OneFileTree.ValiditySeconds,
            Attr = attr,
        };
        MemoryMarshal.Write(payload, in entry);
        return Unsafe.SizeOf<FuseEntryOut>();
    }

    private int Getattr(ulong node, Span<byte> payload)
    {
        if (!_tree.TryGetAttr(node, out var attr))
        {
            return -Libc.ENOENT;
        }

        return WriteAttrOut(attr, payload);
    }

    private int Setattr(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (!_tree.TryGetAttr(header.NodeId, out var attr))
        {
            return -Libc.ENOENT;
        }

        var request = MemoryMarshal.Read<FuseSetattrIn>(body);
        var valid = (FuseSetattrValid)request.Valid;

        // The image has a fixed size: truncate/extend would silently corrupt the volume it holds.
        if ((valid & FuseSetattrValid.Size) != 0 && request.Size != attr.Size)
        {
            return header.NodeId == OneFileTree.FileNode ? -Libc.EPERM : -Libc.EISDIR;
        }

        if (((valid & FuseSetattrValid.Uid) != 0 && request.Uid != attr.Uid)
            || ((valid & FuseSetattrValid.Gid) != 0 && request.Gid != attr.Gid))
        {
            return -Libc.EPERM;
        }

        _tree.SetAttributes(header.NodeId, in request);
        _tree.TryGetAttr(header.NodeId, out attr);
        return WriteAttrOut(attr, payload);
    }

    private static int WriteAttrOut(in FuseAttr attr, Span<byte> payload)
    {
        var output = new FuseAttrOut { AttrValid = OneFileTree.ValiditySeconds, Attr = attr };
        MemoryMarshal.Write(payload, in output);
        return Unsafe.SizeOf<FuseAttrOut>();
    }

    private int Open(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (header.NodeId == OneFileTree.RootNode)
        {
            return -Libc.EISDIR;
        }

        if (header.NodeId != OneFileTree.FileNode)
        {
            return -Libc.ENOENT;
        }

        var request = MemoryMarshal.Read<FuseOpenIn>(body);
        if (_file.ReadOnly && (request.Flags & Libc.O_ACCMODE) != Libc.O_RDONLY)
        {
            return -Libc.EROFS;
        }

        // FOPEN_DIRECT_IO: the image must never sit in this file's page cache. The loop driver already opens it
        // O_DIRECT, and ext4 above the loop device caches the same data, so a FUSE page cache would only double
        // the memory and add dirty pages that must be written back *through this daemon* (deadlock risk under
        // reclaim). With it, even a loop device that silently fell back to buffered I/O, or a plain `cp` of the
        // image, goes straight to IFuseFile. The cost, losing kernel read-ahead and mmap for ordinary readers of
        // the image, does not matter for a block device image. PARALLEL_DIRECT_WRITES lets concurrent direct
        // writes share the inode lock instead of serialising on it.
        var output = new FuseOpenOut
        {
            Fh = 0,
            OpenFlags = (uint)(FuseOpenFlags.DirectIo | FuseOpenFlags.ParallelDirectWrites),
        };
        MemoryMarshal.Write(payload, in output);
        return Unsafe.SizeOf<FuseOpenOut>();
    }

    private static int Opendir(in FuseInHeader header, Span<byte> payload)
    {
        if (header.NodeId != OneFileTree.RootNode)
        {
            return header.NodeId == OneFileTree.FileNode ? -Libc.ENOTDIR : -Libc.ENOENT;
        }

        var output = new FuseOpenOut { OpenFlags = (uint)(FuseOpenFlags.KeepCache | FuseOpenFlags.CacheDir) };
        MemoryMarshal.Write(payload, in output);
        return Unsafe.SizeOf<FuseOpenOut>();
    }

    private int Readdir(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (header.NodeId != OneFileTree.RootNode)
        {
            return -Libc.ENOTDIR;
        }

        var request = MemoryMarshal.Read<FuseReadIn>(body);
        var room = (int)Math.Min(request.Size, (uint)payload.Length);
        return _tree.ReadDirectory(request.Offset, payload[..room]);
    }

    private int Statfs(Span<byte> payload)
    {
        var blocks = (ulong)(Math.Max(0, _file.Size) + 4095) / 4096;
        var output = new FuseStatfsOut
        {
            St = new FuseKstatfs
            {
                Blocks = blocks,
                Bfree = 0,
                Bavail = 0,
                Files = 2,
                Ffree = 0,
                Bsize = 4096,
                Frsize = 4096,
                Namelen = 255,
            },
        };
        MemoryMarshal.Write(payload, in output);
        return Unsafe.SizeOf<FuseStatfsOut>();
    }

    private int Access(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        var request = MemoryMarshal.Read<FuseAccessIn>(body);
        if (header.NodeId == OneFileTree.FileNode && _file.ReadOnly && (request.Mask & Libc.W_OK) != 0)
        {
            return -Libc.EROFS;
        }

        return header.NodeId is OneFileTree.RootNode or OneFileTree.FileNode ? 0 : -Libc.ENOENT;
    }

    private int Fsync(in FuseInHeader header, ReadOnlySpan<byte> body)
    {
        if (header.NodeId != OneFileTree.FileNode)
        {
            return 0;
        }

        var request = MemoryMarshal.Read<FuseFsyncIn>(body);
        return CallFile((request.FsyncFlags & FuseConstants.FsyncFdatasync) != 0 ? FileCall.Fdatasync : FileCall.Fsync);
    }

    private int Read(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (header.NodeId != OneFileTree.FileNode)
        {
            _stats.CountRead(0);
            return header.NodeId == OneFileTree.RootNode ? -Libc.EISDIR : -Libc.EBADF;
        }

        var request = MemoryMarshal.Read<FuseReadIn>(body);
        var offset = (long)request.Offset;
        var size = _file.Size;
        if (offset < 0)
        {
            _stats.CountRead(0);
            return -Libc.EINVAL;
        }

        // Never ask the handler for bytes past EOF: the short count is the EOF signal to the kernel.
        var wanted = (int)Math.Min(Math.Min(request.Size, (uint)payload.Length), (ulong)Math.Max(0, size - offset));
        if (wanted == 0)
        {
            _stats.CountRead(0);
            return 0;
        }

        int result;
        try
        {
            result = _file.Read(offset, payload[..wanted]);
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "IFuseFile.Read({Offset}, {Length}) threw; answering EIO.", offset, wanted);
            result = -Libc.EIO;
        }

        if (result > wanted)
        {
            _logger.LogError(
                "IFuseFile.Read({Offset}, {Length}) returned {Result}, more than asked; answering EIO.", offset, wanted, result);
            result = -Libc.EIO;
        }

        _stats.CountRead(result);
        return result;
    }

    private int Write(in FuseInHeader header, ReadOnlySpan<byte> body, Span<byte> payload)
    {
        if (header.NodeId != OneFileTree.FileNode)
        {
            _stats.CountWrite(0);
            return header.NodeId == OneFileTree.RootNode ? -Libc.EISDIR : -Libc.EBADF;
        }

        var request = MemoryMarshal.Read<FuseWriteIn>(body);
        var data = body[Unsafe.SizeOf<FuseWriteIn>()..];
        if ((uint)data.Length != request.Size)
        {
            _logger.LogError("FUSE_WRITE says {Size} bytes but carries {Length}; answering EIO.", request.Size, data.Length);
            _stats.CountWrite(0);
            return -Libc.EIO;
        }

        if (_file.ReadOnly)
        {
            _stats.CountWrite(0);
            return -Libc.EROFS;
        }

        var offset = (long)request.Offset;
        var size = _file.Size;
        if (offset < 0)
        {
            _stats.CountWrite(0);
            return -Libc.EINVAL;
        }

        // The image cannot grow: like a block device, a write at or past the end is ENOSPC and one that
        // straddles it is short.
        var fits = (int)Math.Min((ulong)data.Length, (ulong)Math.Max(0, size - offset));
        int result;
        if (data.Length == 0)
        {
            result = 0;
        }
        else if (fits == 0)
        {
            result = -Libc.ENOSPC;
        }
        else
        {
            try
            {
                result = _file.Write(offset, data[..fits]);
            }
            catch (Exception exception)
            {
                _logger.LogError(exception, "IFuseFile.Write({Offset}, {Length}) threw; answering EIO.", offset, fits);
                result = -Libc.EIO;
            }

            if (result > fits)
            {
                _logger.LogError(
                    "IFuseFile.Write({Offset}, {Length}) returned {Result}, more than given; answering EIO.", offset, fits, result);
                result = -Libc.EIO;
            }
        }

        _stats.CountWrite(result);
        if (result < 0)
        {
            return result;
        }

        var output = new FuseWriteOut { Size = (uint)result };
        MemoryMarshal.Write(payload, in output);
        return Unsafe.SizeOf<FuseWriteOut>();
    }

    private enum FileCall
    {
        Fsync,
        Fdatasync,
        Flush,
    }

    private int CallFile(FileCall call)
    {
        try
        {
            return call switch
            {
                FileCall.Fsync => _file.Fsync(dataOnly: false),
                FileCall.Fdatasync => _file.Fsync(dataOnly: true),
                _ => _file.Flush(),
            };
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "IFuseFile.{Call} threw; answering EIO.", call);
            return -Libc.EIO;
        }
    }

    /// <summary>Fills out_header. A non-negative result is the payload length; a negative one an errno.</summary>
    private int Finish(Span<byte> reply, ulong unique, int result)
    {
        var error = 0;
        var length = FuseConstants.OutHeaderSize;
        if (result < 0)
        {
            // The kernel rejects (and drops) a reply whose error is outside (-512, 0).
            error = result > -MaxErrno - 1 ? result : -Libc.EIO;
            _stats.CountError();
        }
        else
        {
            length += result;
        }

        var header = new FuseOutHeader { Len = (uint)length, Error = error, Unique = unique };
        MemoryMarshal.Write(reply, in header);
        return length;
    }
}
