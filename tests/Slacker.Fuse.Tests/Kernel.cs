using Slacker.Native;

namespace Slacker.Fuse.Tests;

/// <summary>Small helpers around the real kernel's mount table.</summary>
internal static class Kernel
{
    public static bool IsMounted(string mountPoint) =>
        MountTable.Read().Any(entry => entry.MountPoint == mountPoint);

    public static MountEntry? FindMount(string mountPoint) =>
        MountTable.Read().LastOrDefault(entry => entry.MountPoint == mountPoint);

    /// <summary>umount2(MNT_DETACH) for test cleanup; ignores "not mounted".</summary>
    public static void Detach(string mountPoint)
    {
        if (IsMounted(mountPoint))
        {
            Libc.Umount2(mountPoint, Libc.MNT_DETACH);
        }
    }
}
