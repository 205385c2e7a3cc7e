namespace Slacker.Native;

/// <summary>What .NET's file APIs cannot do or do not show: inode metadata, owners, device nodes, directory fsync.</summary>
public static class UnixFile
{
    /// <summary>statx of the path itself (a final symlink is not followed); throws with the errno.</summary>
    public static Statx LStat(string path) =>
        Libc.StatxAt(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out var st) == 0
            ? st
            : throw new IOException($"statx {path}: {Libc.ErrnoText(Libc.LastErrno)}");

    /// <summary>lchown: the owner of the path itself, not of a symlink's target.</summary>
    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Libc.FchownAt(Libc.AT_FDCWD, path, uid, gid, Libc.AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw new IOException($"lchown {path}: {Libc.ErrnoText(Libc.LastErrno)}");
        }
    }

    /// <summary>Makes a character device node; with (0, 0) this is an overlayfs whiteout.</summary>
    public static void MakeCharDevice(string path, uint major, uint minor, uint permissions = 0)
    {
        if (Libc.MknodAt(Libc.AT_FDCWD, path, Libc.S_IFCHR | permissions, Libc.MakeDev(major, minor)) != 0)
        {
            throw new IOException($"mknod {path}: {Libc.ErrnoText(Libc.LastErrno)}");
        }
    }

    /// <summary>link(2); false when it cannot be made (another file system, say), for callers that then copy.</summary>
    public static bool TryHardLink(string existing, string newPath) =>
        Libc.LinkAt(Libc.AT_FDCWD, existing, Libc.AT_FDCWD, newPath, 0) == 0;

    /// <summary>
    /// fsync of a directory: a new or renamed entry is durable only once the directory that holds it is on disk,
    /// and FileStream refuses to open directories.
    /// </summary>
    public static void SyncDirectory(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory {path} to sync it: {Libc.ErrnoText(Libc.LastErrno)}.");
        }

        try
        {
            if (Libc.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed: {Libc.ErrnoText(Libc.LastErrno)}; the disk may be failing or full.");
            }
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }
}
