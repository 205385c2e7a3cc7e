using Slacker.Native;

namespace Slacker.Node.Attach;

/// <summary>mount(2)/umount(2) of the ext4 file system on a volume's loop device, and freezing it for a commit.</summary>
internal static class Ext4Mount
{
    // noatime: reading a file must not dirty chunks of a lazily fetched image.
    private const ulong MsNoAtime = 1024;

    // noinit_itable: no ext4lazyinit thread zeroing inode tables in the background; on a lazy volume those
    // writes would turn gigabytes of never-read zero chunks into dirty chunks. Uninitialised groups stay marked
    // as such, so this is safe.
    private const string Options = "noinit_itable";

    public static void Mount(string device, string target, bool readOnly)
    {
        var flags = MsNoAtime | (readOnly ? Libc.MS_RDONLY : 0);
        if (Libc.Mount(device, target, "ext4", flags, Options) != 0)
        {
            var errno = Libc.LastErrno;
            throw new IOException($"mount -t ext4 {device} {target} failed: {Libc.ErrnoText(errno)}. Check that the volume holds an ext4 file system (dmesg says more).");
        }
    }

    /// <summary>Unmounts; EBUSY (a process still uses it) is retried for a moment, then reported.</summary>
    public static void Unmount(string target, TimeSpan busyWait)
    {
        var deadline = DateTime.UtcNow + busyWait;
        while (Libc.Umount2(target, Libc.UMOUNT_NOFOLLOW) != 0)
        {
            var errno = Libc.LastErrno;
            if (errno is Libc.EINVAL or Libc.ENOENT)
            {
                return; // not mounted
            }

            if (errno != Libc.EBUSY || DateTime.UtcNow > deadline)
            {
                throw new IOException($"umount {target} failed: {Libc.ErrnoText(errno)}. Stop the processes that use it (fuser -m {target}) and detach again.");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>
    /// FIFREEZE: ext4 writes back everything, checkpoints its journal (so the image is clean, needing no recovery)
    /// and blocks new writes until the returned handle thaws it.
    /// </summary>
    public static IDisposable Freeze(string target)
    {
        var fd = Libc.Open(target, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"Opening {target} to freeze it failed: {Libc.ErrnoText(Libc.LastErrno)}.");
        }

        if (Libc.Ioctl(fd, Libc.FIFREEZE, 0) != 0)
        {
            var errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new IOException($"FIFREEZE on {target} failed: {Libc.ErrnoText(errno)}.");
        }

        return new Thaw(fd, target);
    }

    private sealed class Thaw(int fd, string target) : IDisposable
    {
        private int _fd = fd;

        public void Dispose()
        {
            var fd = Interlocked.Exchange(ref _fd, -1);
            if (fd < 0)
            {
                return;
            }

            var failed = Libc.Ioctl(fd, Libc.FITHAW, 0) != 0;
            var errno = Libc.LastErrno;
            Libc.Close(fd);
            if (failed)
            {
                throw new IOException($"FITHAW on {target} failed: {Libc.ErrnoText(errno)}; run fsfreeze -u {target}.");
            }
        }
    }
}
