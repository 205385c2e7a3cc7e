using Slacker.Native;

namespace Slacker.Images.Ext4;

/// <summary>An ext4 file system mounted by us on a private temp directory; disposing unmounts it and removes the directory.</summary>
public sealed class Ext4Mount : IAsyncDisposable
{
    private bool _mounted;

    private Ext4Mount(string device, string mountPoint)
    {
        Device = device;
        MountPoint = mountPoint;
        _mounted = true;
    }

    public string Device { get; }

    public string MountPoint { get; }

    /// <summary>
    /// Mounts <paramref name="device"/>. Writable mounts use nodelalloc and noatime so that blocks are placed
    /// while the applying thread writes and nothing changes behind its back: two imports of one image then
    /// produce the same bytes.
    /// </summary>
    public static Ext4Mount Mount(string device, string parentDirectory, bool readOnly)
    {
        var mountPoint = Path.Combine(parentDirectory, "mnt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mountPoint);
        var flags = Libc.MS_NOATIME | (readOnly ? Libc.MS_RDONLY | Libc.MS_NODEV | Libc.MS_NOSUID : 0);
        var options = readOnly ? "noload" : "nodelalloc,noinit_itable,errors=remount-ro";
        if (Libc.Mount(device, mountPoint, "ext4", flags, options) != 0)
        {
            var error = Libc.LastErrno;
            Directory.Delete(mountPoint);
            throw new IOException($"Mounting {device} (ext4) on {mountPoint} failed: {Libc.ErrnoText(error)}. Slacker must run as root to build and read image file systems.");
        }

        if (!readOnly)
        {
            LoadAllAllocationGroups(device);
        }

        return new Ext4Mount(device, mountPoint);
    }

    /// <summary>
    /// mballoc skips block groups whose bitmaps are not loaded yet in its cheap passes, and loads them by
    /// asynchronous prefetch, so where a file lands would depend on I/O timing. Reading mb_groups loads every
    /// group up front; from then on allocation depends only on the writes.
    /// </summary>
    private static void LoadAllAllocationGroups(string device)
    {
        var groups = $"/proc/fs/ext4/{Path.GetFileName(device)}/mb_groups";
        if (File.Exists(groups))
        {
            _ = File.ReadAllText(groups);
        }
    }

    public void Unmount()
    {
        if (!_mounted)
        {
            return;
        }

        if (Libc.Umount2(MountPoint, 0) != 0)
        {
            var error = Libc.LastErrno;
            throw new IOException($"Unmounting {MountPoint} failed: {Libc.ErrnoText(error)}. Something still uses the file system; it was left mounted.");
        }

        _mounted = false;
        Directory.Delete(MountPoint);
    }

    public ValueTask DisposeAsync()
    {
        if (_mounted && Libc.Umount2(MountPoint, 0) != 0)
        {
            // Busy (a test's open handle, a shell): detach lazily so the loop device can still go.
            Libc.Umount2(MountPoint, Libc.MNT_DETACH);
        }

        _mounted = false;
        if (Directory.Exists(MountPoint))
        {
            Directory.Delete(MountPoint);
        }

        return ValueTask.CompletedTask;
    }
}
