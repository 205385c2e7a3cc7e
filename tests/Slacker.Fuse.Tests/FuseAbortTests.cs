using Slacker.Native;

namespace Slacker.Fuse.Tests;

public sealed class FuseAbortTests
{
    private const long StuckOffset = 1 << 20;

    [Fact]
    public void Abort_fails_a_caller_blocked_in_the_handler_and_removes_the_mount()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var file = new MemoryFile(4 << 20)
        {
            BeforeRead = offset =>
            {
                if (offset == StuckOffset)
                {
                    entered.Set();
                    release.Wait(TimeSpan.FromMinutes(1)); // a backend that hangs (dead server, lost network)
                }

                return 0;
            },
        };
        var mounted = new MountedFile(file);
        var mountPoint = mounted.Session.MountPoint;
        Thread? client = null;
        var clientResult = 0;
        try
        {
            client = new Thread(() =>
            {
                using var native = new NativeFile(mounted.Path, direct: true);
                clientResult = native.ReadAt(StuckOffset, 4096);
                release.Set(); // let the handler go once the caller has its answer
            });
            client.Start();
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "the read never reached the handler");
            Assert.True(client.IsAlive, "the read must still be blocked in the handler");

            mounted.Session.Abort();

            Assert.True(client.Join(TimeSpan.FromSeconds(30)), "the blocked caller hung after Abort");
            Assert.True(clientResult < 0, $"the blocked read returned {clientResult} instead of an error");
            Assert.Contains(-clientResult, new[] { Libc.ECONNABORTED, Libc.ENOTCONN, Libc.EIO });
            Assert.False(Kernel.IsMounted(mountPoint));
            Assert.False(Directory.Exists($"/sys/fs/fuse/connections/{mounted.Session.ConnectionId}"));
            Assert.Equal(0, mounted.Session.LiveReaders);
        }
        finally
        {
            release.Set();
            client?.Join(TimeSpan.FromSeconds(30));
            mounted.Dispose();
        }
    }
}
