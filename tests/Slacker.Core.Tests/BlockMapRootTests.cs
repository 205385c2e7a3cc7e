using Slacker.Core.Model;

namespace Slacker.Core.Tests;

public sealed class BlockMapRootTests
{
    [Theory]
    [InlineData(3000, 65536)]
    [InlineData(0, 4096)]
    [InlineData(65536, 65536 + 1)]
    [InlineData(65536, 2 * 1024 * 1024)]
    [InlineData(100_000, 65536)]
    public void Invalid_geometry_names_the_problem(long size, int chunkSize) =>
        Assert.NotNull(ChunkGeometry.Validate(size, chunkSize));

    [Fact]
    public void Root_round_trips_and_its_id_verifies_it()
    {
        var geometry = new ChunkGeometry(3L << 30, 65536);
        var pages = new Digest[geometry.PageCount];
        pages[1] = Digest.Compute([1, 2, 3]);
        var root = new BlockMapRoot(geometry, pages);
        var bytes = root.Encode();
        var id = root.ComputeId();

        var decoded = BlockMapRoot.Decode(bytes, id);
        Assert.Equal(geometry, decoded.Geometry);
        Assert.Equal(pages, decoded.Pages.ToArray());

        bytes[^1] ^= 1;
        Assert.Throws<InvalidDataException>(() => BlockMapRoot.Decode(bytes, id));
    }

    [Fact]
    public void All_zero_page_is_named_zero()
    {
        var page = new byte[ChunkGeometry.PageBytes];
        Assert.True(BlockMapPage.NameOf(page).IsZero);
        BlockMapPage.SetEntry(page, 7, Digest.Compute([9]));
        Assert.False(BlockMapPage.NameOf(page).IsZero);
        Assert.Equal(Digest.Compute([9]), BlockMapPage.GetEntry(page, 7));
    }
}
