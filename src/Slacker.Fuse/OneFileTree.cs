using System.Text;
using Slacker.Fuse.Protocol;

namespace Slacker.Fuse;

/// <summary>
/// The whole namespace of the mount: root directory (node 1) holding one regular file (node 2).
/// Nothing can be created, renamed or removed, so node ids and names never change.
/// </summary>
internal sealed class OneFileTree
{
    public const ulong RootNode = FuseConstants.RootId;
    public const ulong FileNode = 2;

    private const uint S_IFDIR = 0x4000;
    private const uint S_IFREG = 0x8000;
    private const uint DT_DIR = 4;
    private const uint DT_REG = 8;
    private const uint BlockSize = 4096;

    private readonly IFuseFile _file;
    private readonly Lock _attrLock = new();
    private readonly uint _uid;
    private readonly uint _gid;
    private (ulong Seconds, uint Nanos) _atime;
    private (ulong Seconds, uint Nanos) _mtime;
    private (ulong Seconds, uint Nanos) _ctime;
    private uint _filePermissions;

    public OneFileTree(IFuseFile file, string fileName, uint uid, uint gid)
    {
        _file = file;
        FileName = Encoding.UTF8.GetBytes(fileName);
        _uid = uid;
        _gid = gid;
        var now = Now();
        _atime = _mtime = _ctime = now;
        _filePermissions = file.ReadOnly ? 0x124u /* 0444 */ : 0x1A4u /* 0644 */;
    }

    public byte[] FileName { get; }

    /// <summary>The tree never changes behind the kernel's back, so its caches may keep entries for long.</summary>
    public static ulong ValiditySeconds => 3600;

    public bool TryGetAttr(ulong node, out FuseAttr attr)
    {
        attr = default;
        if (node != RootNode && node != FileNode)
        {
            return false;
        }

        attr.Ino = node;
        attr.Blksize = BlockSize;
        attr.Uid = _uid;
        attr.Gid = _gid;
        (attr.Atime, attr.AtimeNsec) = _atime;
        (attr.Mtime, attr.MtimeNsec) = _mtime;
        (attr.Ctime, attr.CtimeNsec) = _ctime;
        if (node == RootNode)
        {
            attr.Mode = S_IFDIR | 0x1ED; // 0755
            attr.Nlink = 2;
            attr.Size = BlockSize;
            attr.Blocks = BlockSize / 512;
        }
        else
        {
            var size = (ulong)Math.Max(0, _file.Size);
            attr.Mode = S_IFREG | Volatile.Read(ref _filePermissions);
            attr.Nlink = 1;
            attr.Size = size;
            attr.Blocks = (size + 511) / 512;
        }

        return true;
    }

    /// <summary>chmod/utimens of the file. Permission bits only; the file type never changes.</summary>
    public void SetAttributes(ulong node, in FuseSetattrIn request)
    {
        var valid = (FuseSetattrValid)request.Valid;
        lock (_attrLock)
        {
            var now = Now();
            if (node == FileNode && (valid & FuseSetattrValid.Mode) != 0)
            {
                Volatile.Write(ref _filePermissions, request.Mode & 0xFFF);
            }

            if ((valid & FuseSetattrValid.AtimeNow) != 0)
            {
                _atime = now;
            }
            else if ((valid & FuseSetattrValid.Atime) != 0)
            {
                _atime = (request.Atime, request.AtimeNsec);
            }

            if ((valid & FuseSetattrValid.MtimeNow) != 0)
            {
                _mtime = now;
            }
            else if ((valid & FuseSetattrValid.Mtime) != 0)
            {
                _mtime = (request.Mtime, request.MtimeNsec);
            }

            _ctime = (valid & FuseSetattrValid.Ctime) != 0 ? (request.Ctime, request.CtimeNsec) : now;
        }
    }

    /// <summary>
    /// Writes the READDIR records at and after <paramref name="cookie"/> (".", "..", the file) that fit in
    /// <paramref name="destination"/>; returns the bytes used. An empty result tells the kernel the listing ended.
    /// </summary>
    public int ReadDirectory(ulong cookie, Span<byte> destination)
    {
        var used = 0;
        for (var index = cookie; index < 3; index++)
        {
            ReadOnlySpan<byte> name = index switch
            {
                0 => "."u8,
                1 => ".."u8,
                _ => FileName,
            };
            var record = new FuseDirent
            {
                Ino = index == 2 ? FileNode : RootNode,
                Off = index + 1,
                NameLen = (uint)name.Length,
                Type = index == 2 ? DT_REG : DT_DIR,
            };
            var headerSize = System.Runtime.CompilerServices.Unsafe.SizeOf<FuseDirent>();
            var size = (headerSize + name.Length + FuseConstants.DirentAlign - 1) & ~(FuseConstants.DirentAlign - 1);
            if (used + size > destination.Length)
            {
                break;
            }

            var slot = destination.Slice(used, size);
            System.Runtime.InteropServices.MemoryMarshal.Write(slot, in record);
            name.CopyTo(slot[headerSize..]);
            slot[(headerSize + name.Length)..].Clear();
            used += size;
        }

        return used;
    }

    private static (ulong Seconds, uint Nanos) Now()
    {
        var ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return ((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }
}
