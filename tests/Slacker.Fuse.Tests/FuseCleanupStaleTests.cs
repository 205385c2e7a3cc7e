using System.Diagnostics;
using Slacker.Native;

namespace Slacker.Fuse.Tests;

public sealed class FuseCleanupStaleTests
{
    [Fact]
    public async Task CleanupStale_removes_the_mount_of_a_killed_server_and_nothing_else()
    {
        using var root = new TempDirectory("slacker-stale");
        using var outside = new TempDirectory("slacker-stale-outside");
        var crashedMountPoint = Libc.CanonicalPath(root.CreateSub("c1"));
        var tmpfsMountPoint = Libc.CanonicalPath(root.CreateSub("not-fuse"));
        var live = new MountedFile(new MemoryFile(4096)); // another session, outside the root
        Process? child = null;
        try
        {
            child = StartServer(crashedMountPoint);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var ready = await child.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.StartsWith("ready ", ready);
            Assert.True(Kernel.IsMounted(crashedMountPoint));
            Tool.Run("mount", "-t", "tmpfs", "-o", "size=1m", "slacker", tmpfsMountPoint);

            child.Kill(); // SIGKILL: no unmount, no cleanup, like a crash
            await child.WaitForExitAsync(timeout.Token);

            Assert.True(Kernel.IsMounted(crashedMountPoint), "the crashed server's mount should be left behind");
            Assert.ThrowsAny<IOException>(() => Directory.GetFiles(crashedMountPoint)); // ENOTCONN

            Assert.Equal(1, FuseSession.CleanupStale(root.Path));

            Assert.False(Kernel.IsMounted(crashedMountPoint));
            Assert.True(Kernel.IsMounted(tmpfsMountPoint), "a non-FUSE mount under the root must be left alone");
            Assert.True(Kernel.IsMounted(live.Session.MountPoint), "a mount outside the root must be left alone");
            Assert.Equal(4096, File.ReadAllBytes(live.Path).Length);
            Assert.Equal(0, FuseSession.CleanupStale(root.Path));
        }
        finally
        {
            if (child is { HasExited: false })
            {
                child.Kill();
                child.WaitForExit();
            }

            child?.Dispose();
            Kernel.Detach(tmpfsMountPoint);
            Kernel.Detach(crashedMountPoint);
            live.Dispose();
        }
    }

    /// <summary>This test assembly run as a program: `serve MOUNTPOINT` mounts a MemoryFile and waits.</summary>
    private static Process StartServer(string mountPoint)
    {
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(mountPoint);
        return Process.Start(start) ?? throw new InvalidOperationException("Cannot start the child FUSE server.");
    }
}
