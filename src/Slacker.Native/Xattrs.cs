using System.Text;

namespace Slacker.Native;

/// <summary>Extended attributes of a path without following a final symlink (the l* calls).</summary>
public static unsafe class Xattrs
{
    public static List<string> List(string path)
    {
        var size = Libc.Llistxattr(path, null, 0);
        if (size <= 0)
        {
            return [];
        }

        var buffer = new byte[size];
        fixed (byte* p = buffer)
        {
            size = Libc.Llistxattr(path, p, (nuint)buffer.Length);
        }

        if (size <= 0)
        {
            return [];
        }

        return [.. Encoding.UTF8.GetString(buffer, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    public static byte[]? Get(string path, string name)
    {
        var size = Libc.Lgetxattr(path, name, null, 0);
        if (size < 0)
        {
            return null;
        }

        var buffer = new byte[size];
        fixed (byte* p = buffer)
        {
            size = Libc.Lgetxattr(path, name, p, (nuint)buffer.Length);
        }

        return size < 0 ? null : buffer[..(int)size];
    }

    /// <summary>
    /// Every attribute of the inode itself, sorted by name. Unlike <see cref="List"/> and <see cref="Get"/> a
    /// failure throws: a layer writer must not drop an attribute silently. A file system without xattrs has none.
    /// </summary>
    public static SortedDictionary<string, byte[]> ReadAll(string path)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var size = Libc.Llistxattr(path, null, 0);
        if (size < 0 && Libc.LastErrno == Libc.ENOTSUP)
        {
            return result;
        }

        if (size > 0)
        {
            var names = new byte[size];
            fixed (byte* p = names)
            {
                size = Libc.Llistxattr(path, p, (nuint)names.Length);
            }

            if (size >= 0)
            {
                foreach (var name in Encoding.UTF8.GetString(names, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries))
                {
                    result[name] = GetOrThrow(path, name);
                }
            }
        }

        return size >= 0 ? result : throw new IOException($"llistxattr {path}: {Libc.ErrnoText(Libc.LastErrno)}");
    }

    private static byte[] GetOrThrow(string path, string name)
    {
        var size = Libc.Lgetxattr(path, name, null, 0);
        if (size >= 0)
        {
            var value = new byte[size];
            fixed (byte* p = value)
            {
                size = Libc.Lgetxattr(path, name, p, (nuint)value.Length);
            }

            if (size >= 0)
            {
                return value[..(int)size];
            }
        }

        throw new IOException($"lgetxattr {path} {name}: {Libc.ErrnoText(Libc.LastErrno)}");
    }

    /// <summary>Sets one attribute; returns 0 or the errno.</summary>
    public static int Set(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            return Libc.Lsetxattr(path, name, p, (nuint)value.Length, 0) == 0 ? 0 : Libc.LastErrno;
        }
    }

    public static void Remove(string path, string name) => Libc.Lremovexattr(path, name);
}
