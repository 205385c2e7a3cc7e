using System.IO.Compression;
using Slacker.Core.Model;
using Slacker.Images.Layers;
using Slacker.Images.Sources;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>
/// Untrusted layers applied onto a real ext4: each hostile pattern is refused with the rule it breaks, and
/// nothing outside the root is touched (a canary directory next to the mount stays empty).
/// </summary>
public sealed class HostileLayerTests
{
    private static async Task<LayerRejectedException> RefusedAsync(LayerLimits? limits, params byte[][] layers)
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var error = Assert.Throws<LayerRejectedException>(() => Apply.Layers(fs.Root, limits, layers).Dispose());
        Assert.Empty(Directory.EnumerateFileSystemEntries(fs.Outside));
        Assert.Contains("layer", error.Message, StringComparison.Ordinal);
        Assert.Contains(LayerRejectedException.RuleName(error.Rule), error.Message, StringComparison.Ordinal);
        return error;
    }

    private static Task<LayerRejectedException> RefusedAsync(params byte[][] layers) => RefusedAsync(null, layers);

    [Fact]
    public async Task Path_traversal_is_refused()
    {
        var error = await RefusedAsync(new LayerBuilder().File("ok", "fine").File("a/../../outside/evil", "x").Tar());
        Assert.Equal(LayerRule.PathTraversal, error.Rule);
        Assert.Equal("a/../../outside/evil", error.Entry);
    }

    [Fact]
    public async Task Absolute_paths_are_refused()
    {
        var error = await RefusedAsync(new LayerBuilder().File("/etc/evil", "x").Tar());
        Assert.Equal(LayerRule.AbsolutePath, error.Rule);
    }

    [Fact]
    public async Task Writing_through_a_symlink_that_leads_outside_is_refused_in_one_layer()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var layer = new LayerBuilder().Symlink("evil", fs.Outside).File("evil/pwned", "x").Tar();
        var error = Assert.Throws<LayerRejectedException>(() => Apply.Layers(fs.Root, layer));
        Assert.Equal(LayerRule.SymlinkEscape, error.Rule);
        Assert.Equal("evil/pwned", error.Entry);
        Assert.Empty(Directory.EnumerateFileSystemEntries(fs.Outside));
    }

    [Fact]
    public async Task Writing_through_a_relative_escaping_symlink_from_a_lower_layer_is_refused()
    {
        var lower = new LayerBuilder().Dir("etc/").Symlink("etc/up", "../../../../outside").Tar();
        var upper = new LayerBuilder().File("etc/up/pwned", "x").Tar();
        var error = await RefusedAsync(lower, upper);
        Assert.Equal(LayerRule.SymlinkEscape, error.Rule);
        Assert.Equal("layer1", error.Layer);
    }

    [Fact]
    public async Task Hard_links_to_outside_are_refused()
    {
        Assert.Equal(LayerRule.HardLinkOutside, (await RefusedAsync(new LayerBuilder().HardLink("h", "../../etc/passwd").Tar())).Rule);
        Assert.Equal(LayerRule.HardLinkOutside, (await RefusedAsync(new LayerBuilder().HardLink("h", "/etc/passwd").Tar())).Rule);
    }

    [Fact]
    public async Task Hard_links_through_a_symlink_are_refused()
    {
        var outside = await RefusedAsync(new LayerBuilder().Symlink("s", "/etc").HardLink("h", "s/passwd").Tar());
        Assert.Equal(LayerRule.SymlinkEscape, outside.Rule);
        // Even a symlink that stays inside is never followed: the link must name the real path.
        var inside = await RefusedAsync(new LayerBuilder().Dir("usr/").File("usr/x", "x").Symlink("s", "usr").HardLink("h", "s/x").Tar());
        Assert.Equal(LayerRule.HardLinkTarget, inside.Rule);
    }

    [Fact]
    public async Task A_header_claiming_an_enormous_size_is_refused_before_any_data_is_read()
    {
        var layer = RawTar.Header("huge", 1L << 50).Concat(RawTar.EndMarker).ToArray();
        var error = await RefusedAsync(layer);
        Assert.Equal(LayerRule.EnormousSize, error.Rule);
        Assert.Equal("huge", error.Entry);
    }

    [Fact]
    public async Task A_gzip_bomb_stops_at_the_decompression_limit()
    {
        // A valid little tar followed by 1 GiB of zeros: about 1 MiB compressed.
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(new LayerBuilder().File("small", "x").Tar());
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 1024; i++)
            {
                gzip.Write(zeros);
            }
        }

        var limits = new LayerLimits { MaxUncompressedBytes = 64L << 20 };
        var error = await RefusedAsync(limits, output.ToArray());
        Assert.Equal(LayerRule.DecompressionLimit, error.Rule);
    }

    [Fact]
    public async Task A_truncated_gzip_layer_is_refused()
    {
        var gz = new LayerBuilder().File("a", new byte[200_000].Select((_, i) => (byte)i).ToArray()).File("b", "end").Gzip();
        var error = await RefusedAsync(gz[..(gz.Length / 2)]);
        Assert.Equal(LayerRule.Truncated, error.Rule);
    }

    [Fact]
    public async Task A_tar_cut_at_an_entry_boundary_is_refused()
    {
        var tar = new LayerBuilder().File("a", "first").File("b", "second").Tar();
        var error = await RefusedAsync(tar[..1536]); // pax header + data, a's header + data; no end marker
        Assert.Equal(LayerRule.Truncated, error.Rule);
    }

    [Fact]
    public async Task A_layer_whose_bytes_do_not_match_its_digest_is_refused()
    {
        await using var fs = await ScratchExt4.CreateAsync();
        var good = new LayerBuilder().File("a", "genuine").Gzip();
        var evil = new LayerBuilder().File("a", "tampered").Gzip();
        var limits = LayerLimits.Default;
        using var applier = new LayerApplier(fs.Root, limits, new UncompressedBudget(limits.MaxUncompressedBytes));
        var stream = new VerifyingReadStream(new MemoryStream(evil), Digest.Compute(good), evil.Length, "layer sha256:test");
        var error = Assert.Throws<LayerRejectedException>(() => applier.Apply(stream, "sha256:test"));
        Assert.True(error.Rule is LayerRule.DigestMismatch or LayerRule.Truncated, error.Message);
        Assert.Contains("sha256:test", error.Message);
    }

    [Fact]
    public async Task Duplicate_entries_are_refused()
    {
        var error = await RefusedAsync(new LayerBuilder().File("etc/passwd", "one").File("./etc//passwd", "two").Tar());
        Assert.Equal(LayerRule.DuplicateEntry, error.Rule);
        Assert.Equal("./etc//passwd", error.Entry);
    }

    [Theory]
    [InlineData(".wh..")]
    [InlineData(".wh.")]
    [InlineData("./.wh..")]
    public async Task A_whiteout_of_the_root_is_refused(string name)
    {
        var error = await RefusedAsync(new LayerBuilder().File("a", "x").Tar(), new LayerBuilder().File(name, "").Tar());
        Assert.Equal(LayerRule.WhiteoutOfRoot, error.Rule);
    }

    [Fact]
    public async Task A_whiteout_of_something_the_same_layer_created_is_refused()
    {
        var error = await RefusedAsync(new LayerBuilder().Dir("d/").File("d/f", "x").Whiteout("d").Tar());
        Assert.Equal(LayerRule.WhiteoutConflict, error.Rule);
    }
}
