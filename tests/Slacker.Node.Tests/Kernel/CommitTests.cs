using System.Security.Cryptography;
using Slacker.Node.Attach;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

[Collection(KernelCollection.Name)]
public sealed class CommitTests
{
    [Fact]
    public async Task Changes_committed_in_a_mounted_clone_appear_in_a_clone_of_the_new_snapshot_and_not_in_the_base()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (baseSnapshot, files, _) = await harness.ImportRandomExt4Async(256L << 20, files: 20, maxFileBytes: 512 << 10);
        var attacher = new VolumeAttacher(harness.OpenNode());

        var writer = await harness.AttachAsync(attacher, await harness.CloneAsync(baseSnapshot));
        var added = RandomNumberGenerator.GetBytes(3 << 20);
        await File.WriteAllBytesAsync(Path.Combine(writer.MountPath, "added.bin"), added);
        var changedName = files.Keys.First();
        var changedPath = Path.Combine(writer.MountPath, changedName);
        await using (var stream = new FileStream(changedPath, FileMode.Open, FileAccess.Write))
        {
            stream.Write("changed!"u8);
        }

        var changedHash = Ext4Image.HashFile(changedPath);
        var deleted = files.Keys.Last();
        File.Delete(Path.Combine(writer.MountPath, deleted));

        var result = await writer.CommitAsync("v2");

        // Cost follows the change (3 MiB of data plus ext4 metadata), not the 256 MiB volume.
        Assert.True(result.UploadedBytes >= added.Length, $"uploaded {result.UploadedBytes} bytes");
        Assert.True(result.UploadedBytes < added.Length + (8 << 20), $"uploaded {result.UploadedBytes} bytes for a 3 MiB change");

        // Committed chunks became clean cache entries; only what ext4 wrote after the thaw (its superblock) is dirty.
        Assert.True(writer.Volume.DirtyChunks <= 2, $"{writer.Volume.DirtyChunks} of {result.DirtyChunks} chunks still dirty after the commit");

        // The writer keeps working on top of its new base.
        await File.WriteAllTextAsync(Path.Combine(writer.MountPath, "after-commit.txt"), "still writable");

        var next = await harness.AttachAsync(attacher, await harness.CloneAsync(result.SnapshotId));
        Assert.Equal(added, await File.ReadAllBytesAsync(Path.Combine(next.MountPath, "added.bin")));
        Assert.Equal(changedHash, Ext4Image.HashFile(Path.Combine(next.MountPath, changedName)));
        Assert.False(File.Exists(Path.Combine(next.MountPath, deleted)));
        Assert.False(File.Exists(Path.Combine(next.MountPath, "after-commit.txt")));

        var original = await harness.AttachAsync(attacher, await harness.CloneAsync(baseSnapshot), readOnly: true);
        Assert.False(File.Exists(Path.Combine(original.MountPath, "added.bin")));
        foreach (var (name, hash) in files)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(original.MountPath, name)));
        }

        harness.Detach(original);
        harness.Detach(next);
        harness.Detach(writer);
    }
}
