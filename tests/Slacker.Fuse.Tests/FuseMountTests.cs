using Slacker.Native;

namespace Slacker.Fuse.Tests;

/// <summary>A real FUSE mount served by FuseSession, used through ordinary syscalls.</summary>
public sealed class FuseMountTests
{
    private const int Size = (4 << 20) + 100; // not a multiple of 4 KiB, so EOF is mid-block

    private static MemoryFile PatternFile(int size = Size, bool readOnly = false)
    {
        var file = new MemoryFile(size, readOnly);
        for (var i = 0; i < size; i++)
        {
            file.Data[i] = (byte)(i * 7 + (i >> 12));
        }

        return file;
    }

    [Fact]
    public void The_mount_holds_exactly_one_regular_file_of_the_right_size()
    {
        using var mounted = new MountedFile(PatternFile(), new FuseMountOptions { FileName = "image.ext4" });

        Assert.Equal(Path.Combine(mounted.Session.MountPoint, "image.ext4"), mounted.Path);
        Assert.Equal(["image.ext4"], Directory.GetFileSystemEntries(mounted.Session.MountPoint).Select(Path.GetFileName));
        var info = new FileInfo(mounted.Path);
        Assert.True(info.Exists);
        Assert.Equal(Size, info.Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, info.UnixFileMode);
        Assert.False(info.Attributes.HasFlag(FileAttributes.Directory));
        Assert.False(File.Exists(Path.Combine(mounted.Session.MountPoint, "other")));

        var entry = Kernel.FindMount(mounted.Session.MountPoint);
        Assert.NotNull(entry);
        Assert.Equal("fuse.slacker", entry.FsType);
        Assert.Equal("slacker", entry.Source);
        Assert.Equal(mounted.Session.ConnectionId, entry.DeviceMinor);
        FuseControlFs.EnsureMounted();
        Assert.True(Directory.Exists($"/sys/fs/fuse/connections/{mounted.Session.ConnectionId}"));
    }

    [Fact]
    public void Init_negotiated_big_requests_without_writeback_cache()
    {
        using var mounted = new MountedFile(4096);

        var connection = mounted.Session.Connection;
        Assert.Equal(7u, connection.KernelMajor);
        Assert.Equal(1u << 20, connection.MaxWrite);
        Assert.Equal(256, connection.MaxPages);
        Assert.True(connection.Flags.HasFlag(Protocol.FuseInitFlags.MaxPages));
        Assert.True(connection.Flags.HasFlag(Protocol.FuseInitFlags.AsyncDio));
        Assert.False(connection.Flags.HasFlag(Protocol.FuseInitFlags.WritebackCache));
    }

    [Fact]
    public void FileStream_reads_the_whole_file_and_stops_short_at_EOF()
    {
        using var mounted = new MountedFile(PatternFile());

        Assert.Equal(mounted.File.Data, File.ReadAllBytes(mounted.Path));

        using var stream = new FileStream(mounted.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        var buffer = new byte[4096];
        stream.Position = Size - 100;
        Assert.Equal(100, stream.Read(buffer));
        Assert.Equal(mounted.File.Data[^100..], buffer[..100]);
        Assert.Equal(0, stream.Read(buffer));
    }

    [Fact]
    public void O_DIRECT_aligned_reads_are_served_one_request_each_with_the_right_bytes()
    {
        using var mounted = new MountedFile(PatternFile());
        using var direct = new NativeFile(mounted.Path, direct: true);

        var before = mounted.Session.Stats.ReadRequests;
        Assert.Equal(1 << 20, direct.ReadAt(1 << 20, 1 << 20));
        Assert.Equal(mounted.File.Data.AsSpan(1 << 20, 1 << 20), direct.Buffer[..(1 << 20)]);
        Assert.Equal(4096, direct.ReadAt(8192, 4096));
        Assert.Equal(mounted.File.Data.AsSpan(8192, 4096), direct.Buffer[..4096]);
        Assert.Equal(100, direct.ReadAt(4 << 20, 4096));
        Assert.Equal(0, direct.ReadAt(8 << 20, 4096));

        // 1 MiB in one request (max_pages negotiated), plus the two small reads.
        Assert.InRange(mounted.Session.Stats.ReadRequests - before, 3, 4);
    }

    [Fact]
    public void A_smaller_max_write_splits_big_reads_and_writes_into_requests_of_that_size()
    {
        using var mounted = new MountedFile(PatternFile(), new FuseMountOptions { MaxWrite = 64 << 10 });
        using var direct = new NativeFile(mounted.Path, direct: true);
        Assert.Equal(64u << 10, mounted.Session.Connection.MaxWrite);

        var reads = mounted.Session.Stats.ReadRequests;
        Assert.Equal(1 << 20, direct.ReadAt(0, 1 << 20));
        Assert.Equal(mounted.File.Data.AsSpan(0, 1 << 20), direct.Buffer[..(1 << 20)]);
        Assert.Equal(16, mounted.Session.Stats.ReadRequests - reads);

        var writes = mounted.Session.Stats.WriteRequests;
        direct.Buffer[..(1 << 20)].Fill(0xAB);
        Assert.Equal(1 << 20, direct.WriteAt(1 << 20, 1 << 20));
        Assert.Equal(16, mounted.Session.Stats.WriteRequests - writes);
        Assert.All(mounted.File.Data[(1 << 20)..(2 << 20)], value => Assert.Equal(0xAB, value));
    }

    [Fact]
    public void Writes_reach_the_file_and_read_back_through_the_mount()
    {
        using var mounted = new MountedFile(PatternFile());
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);

        using (var stream = new FileStream(mounted.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            stream.Position = 12_345;
            stream.Write(payload);
        }

        Assert.Equal(payload, mounted.File.Data[12_345..(12_345 + payload.Length)]);
        using var direct = new NativeFile(mounted.Path, direct: true);
        payload.AsSpan(0, 4096).CopyTo(direct.Buffer);
        Assert.Equal(4096, direct.WriteAt(1 << 20, 4096));
        Assert.Equal(4096, direct.ReadAt(1 << 20, 4096));
        Assert.Equal(payload.AsSpan(0, 4096), direct.Buffer[..4096]);

        var bytes = File.ReadAllBytes(mounted.Path);
        Assert.Equal(mounted.File.Data, bytes);
        Assert.True(mounted.Session.Stats.BytesWritten >= payload.Length + 4096);
    }

    [Fact]
    public void Writing_past_the_end_cannot_grow_the_image()
    {
        using var mounted = new MountedFile(PatternFile());
        using var native = new NativeFile(mounted.Path, direct: false);

        Assert.Equal(-Libc.ENOSPC, native.WriteAt(Size, 10));
        Assert.Equal(100, native.WriteAt(Size - 100, 4096));
        Assert.Equal(Size, new FileInfo(mounted.Path).Length);
        // O_TRUNC becomes SETATTR(size=0), refused with EPERM (which .NET reports as access denied).
        Assert.Throws<UnauthorizedAccessException>(() => File.Open(mounted.Path, FileMode.Truncate).Dispose());
        Assert.Equal(Size, new FileInfo(mounted.Path).Length);
    }

    [Fact]
    public void Fsync_fdatasync_and_close_reach_the_handler()
    {
        using var mounted = new MountedFile(PatternFile());
        var flushesBefore = mounted.File.FlushCount;

        using (var stream = new FileStream(mounted.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            stream.Write(new byte[4096]);
            stream.Flush(flushToDisk: true);
        }

        Assert.Equal(1, mounted.File.FsyncCount);
        Assert.True(mounted.File.FlushCount > flushesBefore, "close(2) must send FUSE_FLUSH");

        using (var native = new NativeFile(mounted.Path, direct: false))
        {
            Assert.Equal(0, native.Fdatasync());
        }

        Assert.Equal(1, mounted.File.FdatasyncCount);
        Assert.True(mounted.Session.Stats.SyncRequests >= 3);
    }

    [Fact]
    public void A_handler_error_is_the_errno_of_the_syscall()
    {
        var file = new MemoryFile(1 << 20)
        {
            BeforeRead = offset => offset >= 65536 ? -Libc.EIO : 0,
            BeforeWrite = offset => offset == 0 ? -Libc.ENOSPC : 0,
        };
        using var mounted = new MountedFile(file);
        using var native = new NativeFile(mounted.Path, direct: true);

        Assert.Equal(4096, native.ReadAt(0, 4096));
        Assert.Equal(-Libc.EIO, native.ReadAt(65536, 4096));
        Assert.Equal(-Libc.ENOSPC, native.WriteAt(0, 4096));
        Assert.Equal(4096, native.WriteAt(4096, 4096));
        Assert.True(mounted.Session.Stats.ErrorReplies >= 2);
    }

    [Fact]
    public void Exceptions_from_the_handler_become_EIO_and_the_server_keeps_serving()
    {
        var file = new MemoryFile(1 << 20) { BeforeRead = offset => offset == 0 ? throw new InvalidOperationException("boom") : 0 };
        using var mounted = new MountedFile(file, new FuseMountOptions { ReaderThreads = 1 });
        using var native = new NativeFile(mounted.Path, direct: true);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(-Libc.EIO, native.ReadAt(0, 4096));
            Assert.Equal(4096, native.ReadAt(4096, 4096)); // the single reader thread survived
        }
    }

    [Fact]
    public void A_read_only_file_is_mounted_read_only()
    {
        using var mounted = new MountedFile(PatternFile(1 << 20, readOnly: true));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(mounted.Path));
        Assert.Contains("ro", Kernel.FindMount(mounted.Session.MountPoint) is { } entry ? ReadMountOptions(entry) : []);
        Assert.Throws<IOException>(() => File.OpenWrite(mounted.Path).Dispose());
        Assert.Equal(mounted.File.Data, File.ReadAllBytes(mounted.Path));
    }

    private static string[] ReadMountOptions(MountEntry entry) =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Last(fields => fields[0] == entry.MountId.ToString(System.Globalization.CultureInfo.InvariantCulture))[5]
            .Split(',');

    [Fact]
    public void Unmount_removes_the_mount_and_ends_the_reader_threads()
    {
        var mounted = new MountedFile(4096);
        var mountPoint = mounted.Session.MountPoint;
        try
        {
            Assert.True(Kernel.IsMounted(mountPoint));
            mounted.Session.Unmount();
            Assert.False(Kernel.IsMounted(mountPoint));
            Assert.Equal(0, mounted.Session.LiveReaders);
            mounted.Session.Dispose(); // idempotent
        }
        finally
        {
            mounted.Dispose();
        }
    }
}
