using System.Security.Cryptography;
using Slacker.Native;

namespace Slacker.Fuse.Tests;

/// <summary>The production stack: ext4 on a direct-I/O loop device whose backing file is the FUSE file.</summary>
public sealed class FuseLoopDeviceTests
{
    [Fact]
    public void Ext4_on_a_direct_io_loop_device_over_the_fuse_file_round_trips_files()
    {
        using var scratch = new TempDirectory("slacker-loop");
        var mounted = new MountedFile(64 << 20);
        LoopDevice? loop = null;
        string? ext4 = null;
        try
        {
            loop = LoopDevice.Attach(mounted.Path, readOnly: false, directIo: true);
            var sysfs = $"/sys/block/loop{loop.Number}/loop";
            Assert.Equal("1", File.ReadAllText(Path.Combine(sysfs, "dio")).Trim());
            Assert.Equal(mounted.Path, File.ReadAllText(Path.Combine(sysfs, "backing_file")).Trim());

            Tool.Run("mkfs.ext4", "-q", "-F", loop.DevicePath);
            // mkfs wrote through loop -> FUSE into the MemoryFile: the ext4 superblock magic is at 1024 + 56.
            Assert.Equal(0xEF53, BitConverter.ToUInt16(mounted.File.Data, 1024 + 56));

            ext4 = scratch.CreateSub("ext4");
            var files = Enumerable.Range(0, 20).ToDictionary(i => $"file{i}", i => RandomNumberGenerator.GetBytes(i == 0 ? 8 << 20 : 1000 * i + 1));
            Tool.Run("mount", "-t", "ext4", loop.DevicePath, ext4);
            foreach (var (name, content) in files)
            {
                File.WriteAllBytes(Path.Combine(ext4, name), content);
            }

            Tool.Run("umount", ext4);

            // A fresh mount reads everything back through the loop device (its page cache died with the last close).
            var readsBefore = mounted.Session.Stats.ReadRequests;
            Tool.Run("mount", "-t", "ext4", "-o", "ro", loop.DevicePath, ext4);
            foreach (var (name, content) in files)
            {
                Assert.Equal(content, File.ReadAllBytes(Path.Combine(ext4, name)));
            }

            Tool.Run("umount", ext4);
            ext4 = null;
            Assert.True(mounted.Session.Stats.ReadRequests > readsBefore);
            Assert.True(mounted.Session.Stats.WriteRequests > 0);
            Tool.Run("e2fsck", "-f", "-n", loop.DevicePath);
        }
        finally
        {
            if (ext4 is not null && Kernel.IsMounted(ext4))
            {
                Tool.Run("umount", "-l", ext4);
            }

            loop?.Dispose();
            mounted.Dispose();
        }

        Assert.False(Kernel.IsMounted(mounted.Session.MountPoint));
        Assert.Equal(0, mounted.Session.LiveReaders);
    }

    [Fact]
    public void Unmount_while_a_loop_device_holds_the_file_keeps_serving_until_it_is_detached()
    {
        var mounted = new MountedFile(new MemoryFile(8 << 20), new FuseMountOptions { Timeout = TimeSpan.FromSeconds(1) });
        Random.Shared.NextBytes(mounted.File.Data);
        LoopDevice? loop = null;
        try
        {
            loop = LoopDevice.Attach(mounted.Path, readOnly: false, directIo: true);
            mounted.Session.Unmount(); // lazy: the name goes, the connection stays while loop holds the file

            Assert.False(Kernel.IsMounted(mounted.Session.MountPoint));
            Assert.True(mounted.Session.LiveReaders > 0);
            using (var device = new NativeFile(loop.DevicePath, direct: true, writable: false))
            {
                Assert.Equal(1 << 20, device.ReadAt(3 << 20, 1 << 20));
                Assert.Equal(mounted.File.Data.AsSpan(3 << 20, 1 << 20), device.Buffer[..(1 << 20)]);
            }

            loop.Detach(TimeSpan.FromSeconds(30));
            loop = null;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (mounted.Session.LiveReaders > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }

            Assert.Equal(0, mounted.Session.LiveReaders);
        }
        finally
        {
            loop?.Dispose();
            mounted.Dispose();
        }
    }
}
