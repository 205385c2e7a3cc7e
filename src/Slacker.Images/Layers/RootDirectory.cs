using System.Text;
using Slacker.Native;

namespace Slacker.Images.Layers;

/// <summary>
/// The directory a layer is applied onto, reached only through descriptors: every path component is opened
/// with O_NOFOLLOW relative to its parent, so no symlink anywhere in the tree is ever followed and no entry can
/// reach outside the root, whatever the layer says.
/// </summary>
internal sealed class RootDirectory : IDisposable
{
    /// <summary>Where removed nodes wait until the last layer is applied. A layer may not use this name.</summary>
    public const string TrashName = ".slacker-apply-trash";

    private readonly int _root;
    private readonly int _trash;
    private string? _cachedPath;
    private int _cachedFd = -1;
    private long _trashed;

    public RootDirectory(string path)
    {
        Path = path;
        _root = Libc.OpenAt(Libc.AT_FDCWD, path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (_root < 0)
        {
            throw new IOException($"Cannot open the root directory {path}: {Libc.ErrnoText(Libc.LastErrno)}.");
        }

        // Nothing is deleted while layers are applied: without a journal, ext4 skips inodes freed in an earlier
        // second when it allocates (recently_deleted), which would make the layout depend on the clock. Removed
        // nodes are renamed into this directory instead and deleted together at the end.
        if (Libc.MkdirAt(_root, TrashName, Libc.Mode0700) != 0 && Libc.LastErrno != Libc.EEXIST)
        {
            throw Failure("create", TrashName, Libc.LastErrno);
        }

        _trash = Libc.OpenAt(_root, TrashName, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (_trash < 0)
        {
            throw Failure("open", TrashName, Libc.LastErrno);
        }
    }

    /// <summary>Moves <paramref name="name"/> (any type, a whole tree for a directory) out of the image, O(1).</summary>
    public void Discard(int dirfd, string name, string shownPath)
    {
        ForgetCache();
        var slot = (_trashed++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Check(Libc.RenameAt(dirfd, name, _trash, slot), "remove", shownPath);
    }

    /// <summary>Deletes everything discarded while applying, and the trash directory itself.</summary>
    public void EmptyTrash()
    {
        foreach (var entry in List(_trash))
        {
            Remove(_trash, entry, TrashName + "/" + entry);
        }

        Check(Libc.UnlinkAt(_root, TrashName, Libc.AT_REMOVEDIR), "remove", TrashName);
    }

    public string Path { get; }

    /// <summary>Called whenever the tree loses a node: a cached descriptor might now name a deleted directory.</summary>
    public void ForgetCache()
    {
        if (_cachedFd >= 0)
        {
            Libc.Close(_cachedFd);
        }

        _cachedFd = -1;
        _cachedPath = null;
    }

    /// <summary>
    /// Opens directory <paramref name="path"/> (relative, normalised). With <paramref name="create"/>, missing
    /// components become directories (0755 root:root, as docker makes implicit parents) and non-directories in
    /// the way are replaced by directories, which is what overlayfs shows when a layer has a directory where a
    /// lower layer has a file or symlink. A symlink that leads outside the root is refused instead: writing
    /// through it is the classic escape. Returns -1 when not creating and the directory is missing.
    /// </summary>
    public int OpenDirectory(string path, bool create, Action<string>? onImplicit = null)
    {
        if (path.Length == 0)
        {
            return Dup(_root);
        }

        if (_cachedPath == path)
        {
            return Dup(_cachedFd);
        }

        // The cache is cleared before the walk: the walk may replace components and must not leave a stale entry.
        ForgetCache();
        var fd = Dup(_root);
        var walked = "";
        foreach (var component in path.Split('/'))
        {
            walked = TarPath.Join(walked, component);
            var type = TypeOf(fd, component, out _);
            if (type != Libc.S_IFDIR)
            {
                if (type == Libc.S_IFLNK)
                {
                    var target = ReadLink(fd, component);
                    if (TarPath.LeadsOutside(walked, target))
                    {
                        Libc.Close(fd);
                        throw new SymlinkEscapeException(walked, target);
                    }
                }

                if (!create)
                {
                    Libc.Close(fd);
                    return -1;
                }

                if (type != 0)
                {
                    Discard(fd, component, walked);
                }

                Check(Libc.MkdirAt(fd, component, Libc.Mode0755), "create directory", walked);
                Check(Libc.FchmodAt(fd, component, Libc.Mode0755, 0), "chmod", walked);
                onImplicit?.Invoke(walked);
            }

            var next = Libc.OpenAt(fd, component, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            var error = Libc.LastErrno;
            Libc.Close(fd);
            if (next < 0)
            {
                throw Failure("open directory", walked, error);
            }

            fd = next;
        }

        _cachedPath = path;
        _cachedFd = Dup(fd);
        return fd;
    }

    /// <summary>The file type (S_IFxxx) of <paramref name="name"/> in <paramref name="dirfd"/>, or 0 if absent.</summary>
    public static uint TypeOf(int dirfd, string name, out Statx statx)
    {
        if (Libc.StatxAt(dirfd, name, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE | Libc.STATX_MODE, out statx) == 0)
        {
            return statx.Type;
        }

        var error = Libc.LastErrno;
        return error is Libc.ENOENT ? 0u : throw Failure("stat", name, error);
    }

    public static unsafe string ReadLink(int dirfd, string name)
    {
        var buffer = new byte[4096];
        fixed (byte* p = buffer)
        {
            var n = Libc.ReadlinkAt(dirfd, name, p, (nuint)buffer.Length);
            return n < 0 ? throw Failure("readlink", name, Libc.LastErrno) : Encoding.UTF8.GetString(buffer, 0, (int)n);
        }
    }

    /// <summary>Deletes <paramref name="name"/> in <paramref name="dirfd"/>, a whole tree if it is a directory; absent is fine.</summary>
    private void Remove(int dirfd, string name, string shownPath)
    {
        var type = TypeOf(dirfd, name, out _);
        if (type == 0)
        {
            return;
        }

        ForgetCache();
        if (type == Libc.S_IFDIR)
        {
            var child = Libc.OpenAt(dirfd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            if (child < 0)
            {
                throw Failure("open directory", shownPath, Libc.LastErrno);
            }

            try
            {
                foreach (var entry in List(child))
                {
                    Remove(child, entry, TarPath.Join(shownPath, entry));
                }
            }
            finally
            {
                Libc.Close(child);
            }

            Check(Libc.UnlinkAt(dirfd, name, Libc.AT_REMOVEDIR), "remove directory", shownPath);
        }
        else
        {
            Check(Libc.UnlinkAt(dirfd, name, 0), "remove", shownPath);
        }
    }

    /// <summary>The names in a directory, sorted so that every run does the same operations in the same order.</summary>
    public static List<string> List(int dirfd)
    {
        var names = new List<string>();
        foreach (var full in Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dirfd}"))
        {
            names.Add(System.IO.Path.GetFileName(full));
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>dup with close-on-exec: a tool another thread starts must never inherit a handle on this file system (it would keep it busy).</summary>
    public static int Dup(int fd)
    {
        var copy = Libc.Fcntl(fd, Libc.F_DUPFD_CLOEXEC, 0);
        return copy >= 0 ? copy : throw new IOException($"dup failed: {Libc.ErrnoText(Libc.LastErrno)}");
    }

    public static void Check(int result, string operation, string path)
    {
        if (result < 0)
        {
            throw Failure(operation, path, Libc.LastErrno);
        }
    }

    public static FileSystemOperationException Failure(string operation, string path, int errno) => new(operation, path, errno);

    public void Dispose()
    {
        ForgetCache();
        Libc.Close(_trash);
        Libc.Close(_root);
    }
}

/// <summary>A system call failed while applying a layer; <see cref="Errno"/> tells ENOSPC from the rest.</summary>
public sealed class FileSystemOperationException : IOException
{
    public FileSystemOperationException(string operation, string path, int errno)
        : base($"{operation} '{path}' failed: {Libc.ErrnoText(errno)}")
    {
        Errno = errno;
    }

    public FileSystemOperationException() { }

    public FileSystemOperationException(string message) : base(message) { }

    public FileSystemOperationException(string message, Exception inner) : base(message, inner) { }

    public int Errno { get; }
}

/// <summary>A parent directory of an entry is a symlink that leads outside the root.</summary>
internal sealed class SymlinkEscapeException : Exception
{
    public SymlinkEscapeException(string symlink, string target)
        : base($"'{symlink}' is a symlink to '{target}'")
    {
        Symlink = symlink;
        Target = target;
    }

    public SymlinkEscapeException() { }

    public SymlinkEscapeException(string message) : base(message) { }

    public SymlinkEscapeException(string message, Exception inner) : base(message, inner) { }

    public string Symlink { get; } = "";

    public string Target { get; } = "";
}
