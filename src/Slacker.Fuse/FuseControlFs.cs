using Slacker.Native;

namespace Slacker.Fuse;

/// <summary>
/// The fusectl file system at /sys/fs/fuse/connections: one directory per FUSE connection, named by the minor of
/// the mount's anonymous device, whose "abort" file ends the connection however busy it is.
/// </summary>
internal static class FuseControlFs
{
    public const string ConnectionsDirectory = "/sys/fs/fuse/connections";

    /// <summary>Aborts connection <paramref name="connectionId"/>. Returns false if it no longer exists.</summary>
    public static unsafe bool Abort(uint connectionId)
    {
        EnsureMounted();
        var abortFile = Path.Combine(ConnectionsDirectory, connectionId.ToString(System.Globalization.CultureInfo.InvariantCulture), "abort");
        var fd = Libc.Open(abortFile, Libc.O_WRONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Libc.LastErrno;
            if (errno == Libc.ENOENT)
            {
                return false;
            }

            throw new IOException($"Cannot open {abortFile} to abort FUSE connection {connectionId}: {Libc.ErrnoText(errno)}.");
        }

        try
        {
            byte one = (byte)'1';
            if (Libc.Write(fd, &one, 1) < 0)
            {
                var errno = Libc.LastErrno;
                throw new IOException($"Writing {abortFile} failed: {Libc.ErrnoText(errno)}.");
            }

            return true;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// Mounts fusectl if nothing is mounted there yet. It is the kernel's single, shared control file system, so it
    /// is left mounted afterwards (as systemd does at boot), never unmounted by us.
    /// </summary>
    public static void EnsureMounted()
    {
        if (MountTable.Read().Any(entry => entry.MountPoint == ConnectionsDirectory && entry.FsType == "fusectl"))
        {
            return;
        }

        if (Libc.Mount("fusectl", ConnectionsDirectory, "fusectl", 0, null) != 0)
        {
            var errno = Libc.LastErrno;
            if (errno != Libc.EBUSY)
            {
                throw new IOException(
                    $"Cannot mount fusectl on {ConnectionsDirectory}: {Libc.ErrnoText(errno)}. " +
                    "Run as root with /sys writable, or mount it yourself: mount -t fusectl none " + ConnectionsDirectory);
            }
        }
    }
}
