using System.Text;
using Slacker.Native;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>ApplyDiff onto a real loop-mounted ext4: the resulting tree, entry kind by entry kind.</summary>
public sealed class LayerApplierTests
{
    private static readonly Dictionary<string, string> UserXattr = new() { ["user.origin"] = "layer-0" };

    [Fact]
    public async Task Applies_every_entry_kind_with_owner_mode_xattrs_and_times()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var layer = new LayerBuilder()
            .Dir("usr/", xattrs: UserXattr)
            .Dir("usr/bin/")
            .File("usr/bin/tool", "#!/bin/sh\necho hi\n", mode: 0x9ED /* 04755 */)
            .HardLink("usr/bin/tool-alias", "usr/bin/tool", mode: 0x9ED)
            .Symlink("usr/bin/sh", "/bin/busybox")
            .Dir("tmp/", mode: 0x3FF /* 01777 */)
            .Dir("home/app/", mode: 0x1C0, uid: 1000, gid: 1001)
            .File("home/app/notes", "mine", mode: 0x180, uid: 1000, gid: 1001)
            .CharDevice("dev/null", 1, 3)
            .Fifo("run/pipe")
            .Tar();
        Apply.Layers(fs.Root, layer);

        var listing = TreeListing.Of(fs.Root);
        Assert.Contains("usr/bin/tool f 4755 0:0 size=18", listing);
        Assert.Contains("usr/bin/tool-alias f 4755 0:0 size=18", listing);
        Assert.Contains("links=2", listing);
        Assert.Contains("usr/bin/sh l 0777 0:0 -> /bin/busybox", listing);
        Assert.Contains("tmp d 1777 0:0", listing);
        Assert.Contains("home/app d 0700 1000:1001", listing);
        Assert.Contains("home/app/notes f 0600 1000:1001", listing);
        Assert.Contains("dev/null c 0666 0:0 dev=1,3", listing);
        Assert.Contains("run/pipe p 0644 0:0", listing);
        Assert.Contains("usr d 0755 0:0 xattr:user.origin=" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes("layer-0")), listing);
        // Implicit parents (dev/, run/) are made as docker makes them.
        Assert.Contains("run d 0755 0:0", listing);
        Assert.Equal(LayerBuilder.Time.ToUnixTimeSeconds(), new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(fs.Root, "usr/bin/tool"))).ToUnixTimeSeconds());
        // Directory times are set after their children were created, so they are the layer's, not "now".
        Assert.Equal(LayerBuilder.Time.ToUnixTimeSeconds(), new DateTimeOffset(Directory.GetLastWriteTimeUtc(Path.Combine(fs.Root, "usr/bin"))).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Binary_xattrs_such_as_file_capabilities_survive_byte_for_byte()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        // VFS_CAP_REVISION_2 cap_net_raw+ep: not valid UTF-8, which System.Formats.Tar alone would mangle.
        var capability = LayerBuilder.NetRawCapability;
        Apply.Layers(fs.Root, new LayerBuilder().FileWithBinaryXattr("bin/ping", "ELF", "security.capability", capability).Tar());

        Assert.Equal(capability, Xattrs.Get(Path.Combine(fs.Root, "bin/ping"), "security.capability"));
    }

    [Fact]
    public async Task Whiteouts_and_opaque_directories_hide_what_lower_layers_added()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var lower = new LayerBuilder()
            .Dir("a/").File("a/keep", "k").File("a/gone", "g")
            .Dir("b/").File("b/deep", "d")
            .Dir("opq/").File("opq/old1", "1").Dir("opq/sub/").File("opq/sub/old2", "2")
            .File("file-then-dir", "f")
            .Dir("dir-then-file/").File("dir-then-file/child", "c")
            .Tar();
        var upper = new LayerBuilder()
            .Whiteout("a/gone")
            .Whiteout("b")
            .Dir("opq/").File("opq/before-marker", "same layer").Opaque("opq").File("opq/after-marker", "new")
            .Dir("file-then-dir/").File("file-then-dir/x", "x")
            .File("dir-then-file", "now a file")
            .Whiteout("never-existed")
            .Tar();
        Apply.Layers(fs.Root, lower, upper);

        var names = Directory.EnumerateFileSystemEntries(fs.Root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(fs.Root, p)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            ["a", "a/keep", "dir-then-file", "file-then-dir", "file-then-dir/x", "opq", "opq/after-marker", "opq/before-marker"],
            names.Where(n => n != "lost+found").ToArray());
        Assert.Equal("now a file", File.ReadAllText(Path.Combine(fs.Root, "dir-then-file")));
    }

    [Fact]
    public async Task A_directory_entry_over_a_symlink_inside_the_root_replaces_it_as_overlayfs_shows()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var lower = new LayerBuilder().Dir("usr/").Dir("usr/lib/").File("usr/lib/liba", "a").Symlink("lib", "usr/lib").Tar();
        var upper = new LayerBuilder().Dir("lib/").File("lib/libb", "b").Tar();
        Apply.Layers(fs.Root, lower, upper);

        Assert.Equal('d', FileStat.Lstat(Path.Combine(fs.Root, "lib")).Type);
        Assert.True(File.Exists(Path.Combine(fs.Root, "lib/libb")));
        Assert.False(File.Exists(Path.Combine(fs.Root, "usr/lib/libb")));
        Assert.True(File.Exists(Path.Combine(fs.Root, "usr/lib/liba")));
    }

    [Fact]
    public async Task Zero_blocks_become_holes_and_content_is_exact()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var content = new byte[(1 << 20) + 123];
        content[0] = 1;
        content[^1] = 2;
        Apply.Layers(fs.Root, new LayerBuilder().File("sparse", content).Gzip(), new LayerBuilder().File("z", "zstd layer").Zstd());

        var path = Path.Combine(fs.Root, "sparse");
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(0, Libc.StatxAt(Libc.AT_FDCWD, path, 0, Libc.STATX_BLOCKS, out var st));
        Assert.Equal(16ul, st.Blocks); // two 4 KiB blocks of data; the zeros between are a hole
        Assert.Equal("zstd layer", File.ReadAllText(Path.Combine(fs.Root, "z")));
    }
}
