using System.Globalization;
using Microsoft.Extensions.Logging;
using Slacker.Native;

namespace Slacker.Fuse;

/// <summary>
/// The kernel side of mounting, done as libfuse's lib/mount.c does it but without fusermount (we are root):
/// open /dev/fuse, mount(2) with fd=N, clone the fd per reader, find the connection in mountinfo.
/// </summary>
internal static class FuseKernelMount
{
    private const string DevFuse = "/dev/fuse";

    public static int OpenDevice()
    {
        // O_CLOEXEC: a child (crun, mount) inheriting the fd would keep the connection alive after we are gone.
        var fd = Libc.Open(DevFuse, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Libc.LastErrno;
            throw new IOException(
                $"Cannot open {DevFuse}: {Libc.ErrnoText(errno)}. Load the module (modprobe fuse) and run as root.");
        }

        return fd;
    }

    public static unsafe int CloneDevice(int masterFd)
    {
        var fd = OpenDevice();
        var master = (uint)masterFd;
        if (Libc.Ioctl(fd, Protocol.FuseConstants.DevIocClone, &master) != 0)
        {
            var errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new IOException(
                $"ioctl(FUSE_DEV_IOC_CLONE) failed: {Libc.ErrnoText(errno)}. The kernel is too old for cloned FUSE fds; " +
                "use ReaderThreads = 1.");
        }

        return fd;
    }

    public static void Mount(string mountPoint, int fd, FuseMountOptions options, bool readOnly, int maxWrite)
    {
        // Exactly the options fs/fuse/inode.c understands; anything else is EINVAL. rootmode is octal S_IFDIR.
        var data = string.Create(
            CultureInfo.InvariantCulture,
            $"fd={fd},rootmode=40000,user_id={Libc.GetUid()},group_id={Libc.GetGid()}{(options.AllowOther ? ",allow_other" : "")},max_read={maxWrite}");
        var flags = Libc.MS_NOSUID | Libc.MS_NODEV | (readOnly ? Libc.MS_RDONLY : 0);
        var type = "fuse." + options.FsName;
        if (Libc.Mount(options.FsName, mountPoint, type, flags, data) == 0)
        {
            return;
        }

        var errno = Libc.LastErrno;
        if (errno == Libc.ENODEV)
        {
            // Kernels without subtype support know only "fuse" (libfuse falls back the same way).
            type = "fuse";
            if (Libc.Mount(options.FsName, mountPoint, type, flags, data) == 0)
            {
                return;
            }

            errno = Libc.LastErrno;
        }

        throw new IOException($"mount({mountPoint}, type {type}, \"{data}\") failed: {Libc.ErrnoText(errno)}. Run as root.");
    }

    public static uint FindConnectionId(string mountPoint, string fsName)
    {
        // The newest matching entry is ours: mounts stack, and mountinfo lists them in mount order.
        var entry = MountTable.Read().LastOrDefault(candidate => candidate.MountPoint == mountPoint && IsOurFsType(candidate, fsName))
            ?? throw new IOException($"The FUSE mount on {mountPoint} is missing from /proc/self/mountinfo right after mount(2).");
        return entry.DeviceMinor;
    }

    public static bool IsOurFsType(MountEntry entry, string fsName) =>
        entry.FsType == "fuse." + fsName || (entry.FsType == "fuse" && entry.Source == fsName);

    public static void AbortAndDetach(string mountPoint, string fsName, ILogger logger)
    {
        try
        {
            FuseControlFs.Abort(FindConnectionId(mountPoint, fsName));
        }
        catch (IOException exception)
        {
            logger.LogWarning(exception, "Could not abort the half-mounted FUSE connection on {MountPoint}.", mountPoint);
        }

        Libc.Umount2(mountPoint, Libc.MNT_DETACH);
    }

    public static int ReadMaxPagesLimit()
    {
        const string sysctl = "/proc/sys/fs/fuse/max_pages_limit";
        try
        {
            if (File.Exists(sysctl) && int.TryParse(File.ReadAllText(sysctl).Trim(), CultureInfo.InvariantCulture, out var limit) && limit > 0)
            {
                return limit;
            }
        }
        catch (IOException)
        {
            // Older kernels have no such sysctl; their compiled-in limit is the default below.
        }

        return Protocol.FuseConstants.DefaultMaxPagesLimit;
    }
}
