namespace Slacker.Fuse.Tests;

/// <summary>losetup wrappers that always leave the loop device detached and its backing file released.</summary>
internal static class LoopDevice
{
    /// <summary>Attaches with direct I/O and 4 KiB blocks, as the node does.</summary>
    public static string AttachDirect(string file) =>
        Tool.Run("losetup", "--direct-io=on", "-b", "4096", "-f", "--show", file).Trim();

    public static string SysfsDirectory(string device) => $"/sys/block/{Path.GetFileName(device)}/loop";

    /// <summary>
    /// losetup -d, then waits until the kernel really dropped the backing file: LOOP_CLR_FD only marks the device
    /// for autoclear while someone (udev, blkid) still has it open.
    /// </summary>
    public static void Detach(string device)
    {
        try
        {
            Tool.Run("losetup", "-d", device);
        }
        catch (InvalidOperationException)
        {
            // Already detached.
        }

        var backing = Path.Combine(SysfsDirectory(device), "backing_file");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (File.Exists(backing) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }
}
