using Slacker.Images.Ext4;
using Slacker.Images.Import;
using Slacker.Images.Sources;
using Slacker.Images.Tests.Support;
using Slacker.Native;

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
        using var work = Scratch.Dir("rootfs");
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
        using var work = Scratch.Dir("determinism");
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "image.tar"), "sample:1");
        using var first = await BuildAsync($"docker-archive:{archive}", work);
        using var second = await BuildAsync($"docker-archive:{archive}", work);

        var a = await File.ReadAllBytesAsync(first.ImagePath);
        var b = await File.ReadAllBytesAsync(second.ImagePath);
        var differing = Enumerable.Range(0, a.Length / 4096).Where(i => !a.AsSpan(i * 4096, 4096).SequenceEqual(b.AsSpan(i * 4096, 4096))).Take(20).ToList();
        Assert.True(differing.Count == 0, "4 KiB blocks that differ: " + string.Join(", ", differing));
    }

    [Fact]
    public async Task The_bytes_do_not_depend_on_how_long_applying_takes()
    {
        // ext4 without a journal will not reuse an inode freed in an earlier second; the applier must not
        // let that clock dependence reach the layout. The middle layer deletes and replaces files; the top
        // layer, which creates files, is applied once at once and once more than a second later.
        using var work = Scratch.Dir("clock");
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "image.tar"), "sample:1");
        using var quick = await BuildAsync($"docker-archive:{archive}", work);
        await using var slowSource = new SlowLastLayer(ImageSources.Open($"docker-archive:{archive}"), TimeSpan.FromMilliseconds(1500));
        using var slow = await RootFsBuilder.BuildAsync(slowSource, await slowSource.ResolveAsync(), new ImportOptions { WorkDirectory = work.Path });

        Assert.Equal(TestImage.Sha256(await File.ReadAllBytesAsync(quick.ImagePath)), TestImage.Sha256(await File.ReadAllBytesAsync(slow.ImagePath)));
    }

    /// <summary>A source whose last layer, the second time it is opened (the apply pass), arrives late.</summary>
    private sealed class SlowLastLayer(IImageSource inner, TimeSpan delay) : IImageSource
    {
        private SourceImage? _image;
        private int _opens;

        public string Description => inner.Description;

        public async Task<SourceImage> ResolveAsync(CancellationToken cancellationToken = default) => _image = await inner.ResolveAsync(cancellationToken);

        public async Task<Stream> OpenBlobAsync(Oci.OciDescriptor descriptor, CancellationToken cancellationToken = default)
        {
            if (descriptor.Digest == _image!.Layers[^1].Digest && ++_opens == 2)
            {
                await Task.Delay(delay, cancellationToken);
            }

            return await inner.OpenBlobAsync(descriptor, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    internal static async Task<string> ListAsync(string imageFile, TempDirectory work)
    {
        using var loop = LoopDevice.Attach(imageFile, readOnly: true, directIo: false);
        await using var mount = Ext4Mount.Mount(loop.DevicePath, work.Path, readOnly: true);
        return TreeListing.Of(mount.MountPoint);
    }
}
