using System.Runtime.InteropServices;

namespace Slacker.Server.Storage;

/// <summary>
/// What .NET's file APIs cannot do: fsync a directory. A rename is only durable once the directory that holds
/// the new name is on disk, and FileStream refuses to open directories.
/// </summary>
internal static partial class NativeFileSystem
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux

    public static void SyncDirectory(string path)
    {
        var fd = Open(path, ReadOnly | Directory);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()}): the disk may be failing or full.");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
