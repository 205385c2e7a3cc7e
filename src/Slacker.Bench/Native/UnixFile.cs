using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace Slacker.Bench.Native;

/// <summary>The inode facts .NET's managed file APIs do not expose: owner, device numbers, link count, xattrs.</summary>
internal static class UnixFile
{
    public static Statx LStat(string path)
    {
        if (LibC.StatxCall(Statx.AtFdCwd, path, Statx.AtSymlinkNoFollow, Statx.BasicStats, out var st) != 0)
        {
            throw new IOException($"statx({path}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        return st;
    }

    /// <summary>Extended attributes of the inode itself (not a symlink's target), sorted by name.</summary>
    public static unsafe SortedDictionary<string, byte[]> ListXattrs(string path)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var size = LibC.LListXattr(path, null, 0);
        if (size < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // ENOTSUP (95): the file system keeps no xattrs, so there are none to copy.
            if (errno == 95)
            {
                return result;
            }

            throw new IOException($"llistxattr({path}) failed: {new Win32Exception(errno).Message}");
        }

        if (size == 0)
        {
            return result;
        }

        var names = new byte[size];
        fixed (byte* p = names)
        {
            size = LibC.LListXattr(path, p, (nuint)names.Length);
        }

        if (size < 0)
        {
            throw new IOException($"llistxattr({path}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        var span = names.AsSpan(0, (int)size);
        while (!span.IsEmpty)
        {
            var end = span.IndexOf((byte)0);
            var name = Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
            span = end < 0 ? [] : span[(end + 1)..];
            if (name.Length > 0)
            {
                result[name] = GetXattr(path, name);
            }
        }

        return result;
    }

    public static unsafe byte[] GetXattr(string path, string name)
    {
        var size = LibC.LGetXattr(path, name, null, 0);
        if (size < 0)
        {
            throw new IOException($"lgetxattr({path}, {name}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        var value = new byte[size];
        fixed (byte* p = value)
        {
            size = LibC.LGetXattr(path, name, p, (nuint)value.Length);
        }

        if (size < 0)
        {
            throw new IOException($"lgetxattr({path}, {name}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        return value.AsSpan(0, (int)size).ToArray();
    }

    public static unsafe void SetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            if (LibC.LSetXattr(path, name, p, (nuint)value.Length, 0) != 0)
            {
                throw new IOException($"lsetxattr({path}, {name}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
            }
        }
    }

    /// <summary>Makes a character device node; with (0, 0) this is an overlayfs whiteout.</summary>
    public static void MakeCharDevice(string path, uint major, uint minor, uint permissions = 0)
    {
        var dev = ((ulong)(major & 0xfff) << 8) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12) | ((ulong)(major & ~0xfffu) << 32);
        if (LibC.Mknod(path, Statx.TypeCharDevice | permissions, dev) != 0)
        {
            throw new IOException($"mknod({path}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }
    }

    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (LibC.LChown(path, uid, gid) != 0)
        {
            throw new IOException($"lchown({path}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }
    }
}
