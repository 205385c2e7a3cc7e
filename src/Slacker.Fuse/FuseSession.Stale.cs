using Slacker.Native;

namespace Slacker.Fuse;

public sealed partial class FuseSession
{
    /// <summary>
    /// Aborts and detaches FUSE mounts of type fuse.<paramref name="fsName"/> (or plain fuse with source
    /// <paramref name="fsName"/>) at or under <paramref name="mountRoot"/>, left behind by a crashed server.
    /// Nothing outside that prefix is touched. Call it before mounting anew, never while a live server in another
    /// process still serves mounts under that root. Returns how many mounts were removed.
    /// </summary>
    public static int CleanupStale(string mountRoot, string fsName = "slacker")
    {
        ArgumentException.ThrowIfNullOrEmpty(mountRoot);
        if (!Directory.Exists(mountRoot))
        {
            return 0;
        }

        var root = Libc.CanonicalPath(mountRoot);
        var stale = MountTable.Read()
            .Where(entry => MountTable.IsAtOrUnder(entry.MountPoint, root) && FuseKernelMount.IsOurFsType(entry, fsName))
            .OrderByDescending(entry => entry.MountId)
            .ToList();

        var removed = 0;
        foreach (var entry in stale)
        {
            // A dead server's connection is usually aborted already (its fds were closed); a hung one is not.
            FuseControlFs.Abort(entry.DeviceMinor);
            if (Libc.Umount2(entry.MountPoint, Libc.MNT_DETACH) != 0)
            {
                var errno = Libc.LastErrno;
                if (errno is Libc.EINVAL or Libc.ENOENT)
                {
                    continue; // already gone, e.g. a stacked mount detached with its parent
                }

                throw new IOException($"Cannot detach stale FUSE mount {entry.MountPoint}: {Libc.ErrnoText(errno)}.");
            }

            removed++;
        }

        return removed;
    }
}
