using System.Runtime.CompilerServices;
using Slacker.Node.Attach;

namespace Slacker.Node.Tests.Unit;

public sealed class NativeLayoutTests
{
    [Fact]
    public void Loop_structs_match_linux_loop_h()
    {
        Assert.Equal(232, Unsafe.SizeOf<LoopInfo64>());
        Assert.Equal(304, Unsafe.SizeOf<LoopConfig>());
    }

    [Fact]
    public void Mountinfo_lines_are_parsed_with_escaped_paths()
    {
        var mounts = MountInfo.Parse([
            "36 35 98:0 / /mnt/with\\040space rw,noatime master:1 - ext4 /dev/loop0 rw",
            "37 35 0:52 / /mnt/x rw,nosuid,nodev - fuse.slacker slacker rw,user_id=0",
            "garbage",
        ]);

        Assert.Equal(2, mounts.Count);
        Assert.Equal("/mnt/with space", mounts[0].MountPoint);
        Assert.Equal("ext4", mounts[0].FsType);
        Assert.Equal("/dev/loop0", mounts[0].Source);
        Assert.Equal("fuse.slacker", mounts[1].FsType);
        Assert.True(MountInfo.IsAtOrUnder("/a/mnt/v1/root", "/a/mnt"));
        Assert.False(MountInfo.IsAtOrUnder("/a/mntx/v1", "/a/mnt"));
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void Volume_ids_that_are_not_plain_names_are_refused(string id) =>
        Assert.Throws<ArgumentException>(() => NodePaths.CheckId(id));
}
