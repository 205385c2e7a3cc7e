using Slacker.Core.Model;
using Slacker.Node.Attach;
using Slacker.Node.Tests.Infrastructure;
using Slacker.Native;

namespace Slacker.Node.Tests.Kernel;

[Collection(KernelCollection.Name)]
public sealed class FaultTests
{
    [Fact]
    public async Task A_chunk_corrupted_on_the_server_fails_reads_with_EIO_and_a_log_line_naming_it()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, image) = await harness.ImportRandomExt4Async(64L << 20, files: 10, maxFileBytes: 2 << 20);
        var victim = files.Keys.First(); // 2 MiB of random bytes

        // The chunk that holds the middle of the file, as the importer named it.
        var block = Ext4Image.PhysicalBlock(image, victim, 1 << 20);
        var chunk = new byte[64 << 10];
        await using (var stream = File.OpenRead(image))
        {
            stream.Position = block * 4096 / chunk.Length * chunk.Length;
            await stream.ReadExactlyAsync(chunk);
        }

        var digest = Digest.Compute(chunk);
        var stored = harness.Server.ChunkPath(digest);
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[12345] ^= 0x40;
        await File.WriteAllBytesAsync(stored, bytes);

        var attacher = new VolumeAttacher(harness.OpenNode(new NodeOptions { Root = harness.NodeRoot }));
        var clone = await harness.CloneAsync(snapshot);
        var attached = await harness.AttachAsync(attacher, clone);

        var error = Assert.ThrowsAny<IOException>(() => File.ReadAllBytes(Path.Combine(attached.MountPath, victim)));
        Assert.Contains("Input/output error", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(harness.Logs.Lines, line => line.Contains(digest.ToString(), StringComparison.Ordinal) && line.Contains(clone, StringComparison.Ordinal));

        // Its neighbours, including those fetched in the same batch, are still served.
        foreach (var (name, hash) in files.Where(f => f.Key != victim))
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(attached.MountPath, name)));
        }

        Assert.True(attached.Volume.StatsSnapshot().ReadErrors > 0);
        harness.Detach(attached);
    }

    [Fact]
    public async Task A_hung_server_gives_EIO_after_the_configured_timeout_not_a_hang()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(64L << 20, files: 10, maxFileBytes: 2 << 20);
        var attacher = new VolumeAttacher(harness.OpenNode(new NodeOptions { Root = harness.NodeRoot, SequentialWindowChunks = 0, FetchTimeout = TimeSpan.FromSeconds(2) }));
        var attached = await harness.AttachAsync(attacher, await harness.CloneAsync(snapshot));
        var path = Path.Combine(attached.MountPath, files.Keys.First());

        harness.Server.Signal(Libc.SIGSTOP);
        try
        {
            var read = Task.Run(() => File.ReadAllBytes(path));

            // Only a guard against a hang: the read is expected to fail after the 2 s fetch timeout.
            var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(90)));
            Assert.Same(read, finished);
            var error = await Assert.ThrowsAnyAsync<IOException>(() => read);
            Assert.Contains("Input/output error", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(harness.Logs.Lines, line => line.Contains("within 2 s", StringComparison.Ordinal));
        }
        finally
        {
            harness.Server.Signal(Libc.SIGCONT);
        }

        // Once the server answers again, the same file reads correctly.
        Assert.Equal(files[files.Keys.First()], Ext4Image.HashFile(path));
        harness.Detach(attached);
    }

    [Fact]
    public async Task A_killed_node_keeps_fsynced_data_and_its_stale_mounts_are_cleaned_up()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, _, _) = await harness.ImportRandomExt4Async(64L << 20, files: 5, maxFileBytes: 256 << 10);
        var volume = await harness.CloneAsync(snapshot);

        var lastSynced = -1;
        using (var host = NodeHostProcess.Start(harness.NodeRoot, harness.Server.Address, volume))
        {
            lastSynced = await host.WaitForSyncedAsync(atLeast: 8);
            host.KillHard();
        }

        Assert.NotEmpty(Leaks.Under(harness.NodeRoot)); // the dead node's mounts are still there

        var attacher = new VolumeAttacher(harness.OpenNode());
        var cleanup = attacher.CleanupStale();
        Assert.True(cleanup.FuseMounts >= 1 && cleanup.FileSystemMounts >= 1, cleanup.ToString());
        Assert.Empty(Leaks.Under(harness.NodeRoot));
        Assert.True(Directory.Exists(Path.Combine(harness.NodeRoot, "volumes", volume, "dirty")), "dirty chunks must survive the cleanup");

        var attached = await harness.AttachAsync(attacher, volume);
        for (var i = 0; i <= lastSynced; i++)
        {
            Assert.Equal(NodeHostProcess.Content(i), await File.ReadAllBytesAsync(Path.Combine(attached.MountPath, "crash", $"f{i}")));
        }

        harness.Detach(attached);
    }
}
