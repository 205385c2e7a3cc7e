using Slacker.Native;

namespace Slacker.Fuse.Tests;

public sealed class MountTableTests
{
    [Fact]
    public void Parses_mountinfo_lines_with_optional_fields_and_escapes()
    {
        var entries = MountTable.Parse([
            "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
            "612 30 0:71 / /tmp/a\\040b rw,nosuid,nodev,relatime - fuse.slacker slacker rw,user_id=0,group_id=0,allow_other",
            "garbage",
        ]);

        Assert.Equal(2, entries.Count);
        Assert.Equal(new MountEntry(36, 98, 0, "/mnt/parent", "ext3", "/dev/root"), entries[0]);
        Assert.Equal(new MountEntry(612, 0, 71, "/tmp/a b", "fuse.slacker", "slacker"), entries[1]);
    }

    [Theory]
    [InlineData("/srv/slacker", "/srv/slacker", true)]
    [InlineData("/srv/slacker/c1", "/srv/slacker", true)]
    [InlineData("/srv/slacker/c1", "/srv/slacker/", true)]
    [InlineData("/srv/slacker2/c1", "/srv/slacker", false)]
    [InlineData("/srv", "/srv/slacker", false)]
    public void Prefix_matching_is_by_path_component(string path, string root, bool expected) =>
        Assert.Equal(expected, MountTable.IsAtOrUnder(path, root));

    [Fact]
    public void Only_our_fuse_types_count_as_ours()
    {
        Assert.True(FuseKernelMount.IsOurFsType(new MountEntry(1, 0, 1, "/m", "fuse.slacker", "x"), "slacker"));
        Assert.True(FuseKernelMount.IsOurFsType(new MountEntry(1, 0, 1, "/m", "fuse", "slacker"), "slacker"));
        Assert.False(FuseKernelMount.IsOurFsType(new MountEntry(1, 0, 1, "/m", "fuse", "sshfs"), "slacker"));
        Assert.False(FuseKernelMount.IsOurFsType(new MountEntry(1, 0, 1, "/m", "fuse.sshfs", "slacker"), "slacker"));
        Assert.False(FuseKernelMount.IsOurFsType(new MountEntry(1, 0, 1, "/m", "tmpfs", "slacker"), "slacker"));
    }
}
