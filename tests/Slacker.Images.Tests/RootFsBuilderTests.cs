using Slacker.Images.Ext4;
using Slacker.Images.Import;
using Slacker.Images.Sources;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>Building an image's flattened ext4 from real sources, without a server.</summary>
public sealed class RootFsBuilderTests
{
    private static async Task<BuiltRootFs> BuildAsync(string source, TempDirectory work)
    {
        await using var image = ImageSources.Open(source);
        var resolved = await image.ResolveAsync();
        return await RootFsBuilder.BuildAsync(image, resolved, new ImportOptions { WorkDirectory = work.Path });
    }

    [Fact]
    public async Task A_multi_layer_image_flattens_into_a_clean_ext4_with_the_expected_tree()
    {
        using var work = new TempDirectory("rootfs");
        var layout = SampleImages.MultiLayer().WriteOciLayout(Path.Combine(work.Path, "layout"), "v1");
        using var built = await BuildAsync($"oci:{layout}:v1", work);

        var (clean, fsck) = await Ext4Format.CheckAsync(built.ImagePath);
        Assert.True(clean, fsck);
        var listing = await ListAsync(built.ImagePath, work);
        Assert.DoesNotContain("etc/motd", listing);
        Assert.DoesNotContain("var/cache/one", listing);
        Assert.DoesNotContain("home/app/.profile", listing);
        Assert.DoesNotContain("lost+found", listing);
        Assert.Contains("var/cache/fresh f", listing);
        Assert.Contains("home/app d 0700 2000:2000", listing);
        Assert.Contains("opt/app/run f 6755 0:0", listing);
        Assert.Contains("opt/current l 0777 0:0 -> app/run", listing);
        Assert.Contains("usr d 0755 0:0 xattr:user.layer=746f70", listing);
        Assert.Contains("usr/lib/liba.so f 0644 0:0 size=9", listing);
        Assert.Contains("usr/lib/liba.so.1 f 0644 0:0 size=40000", listing);
        Assert.Contains("xattr:security.capability=" + Convert.ToHexStringLower(LayerBuilder.NetRawCapability), listing);
    }

    [Fact]
    public async Task The_same_image_built_twice_gives_the_same_bytes()
    {
        using var work = new TempDirectory("determinism");
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "image.tar"), "sample:1");
        using var first = await BuildAsync($"docker-archive:{archive}", work);
        using var second = await BuildAsync($"docker-archive:{archive}", work);

        var a = await File.ReadAllBytesAsync(first.ImagePath);
        var b = await File.ReadAllBytesAsync(second.ImagePath);
        var differing = Enumerable.Range(0, a.Length / 4096).Where(i => !a.AsSpan(i * 4096, 4096).SequenceEqual(b.AsSpan(i * 4096, 4096))).Take(20).ToList();
        Assert.True(differing.Count == 0, "4 KiB blocks that differ: " + string.Join(", ", differing));
    }

    internal static async Task<string> ListAsync(string imageFile, TempDirectory work)
    {
        await using var loop = await LoopDevice.AttachAsync(imageFile, readOnly: true);
        await using var mount = Ext4Mount.Mount(loop.Device, work.Path, readOnly: true);
        return TreeListing.Of(mount.MountPoint);
    }
}
