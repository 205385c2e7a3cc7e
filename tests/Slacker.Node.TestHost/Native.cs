using System.Runtime.InteropServices;

namespace Slacker.Node.TestHost;

internal static partial class Native
{
    /// <summary>Makes a new directory entry durable (fsync of the file alone does not promise that).</summary>
    public static void FsyncDirectory(string path)
    {
        var fd = Open(path, 0x10000 /* O_DIRECTORY */);
        if (fd < 0)
        {
            throw new IOException($"open of directory {path} failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        var result = Fsync(fd);
        var errno = Marshal.GetLastPInvokeError();
        _ = Close(fd);
        if (result != 0)
        {
            throw new IOException($"fsync of directory {path} failed (errno {errno}).");
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
