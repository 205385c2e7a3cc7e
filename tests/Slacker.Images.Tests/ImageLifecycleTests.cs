using Slacker.Core.Api;
using Slacker.Images.Export;
using Slacker.Images.Import;
using Slacker.Images.Operations;
using Slacker.Images.Sources;
using Slacker.Images.Store;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>What keeps an image's snapshot alive, and the image commands around import: from a registry, pull, push, rmi, export.</summary>
public sealed class ImageLifecycleTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private async Task<ImportedImage> ImportAsync(string source, string name, TempDirectory work)
    {
        using var registry = new Distribution.RegistryClient(server.Address);
        await using var image = ImageSources.Open(source);
        return await new ImageImporter(server.Blocks, registry, server.UploadVolume).ImportAsync(image, ImageName.Parse(name), new ImportOptions { WorkDirectory = work.Path });
    }

    [Fact]
    public async Task A_tag_keeps_its_snapshot_through_gc_and_removing_it_lets_gc_reclaim_it()
    {
        using var work = Scratch.Dir("lifecycle");
        var image = new TestImage([new LayerBuilder().File("only-here", Guid.NewGuid().ToString()).Tar()]);
        var imported = await ImportAsync($"oci:{image.WriteOciLayout(Path.Combine(work.Path, "layout"), "v1")}:v1", "life/app:1", work);
        var service = new ImageService(server.Address, new LocalImageStore(Path.Combine(work.Path, "node")));

        await server.Blocks.GcAsync();
        Assert.True((await server.Blocks.GetSnapshotAsync(imported.Snapshot)).Released);

        // A second name for the same manifest: removing one tag must not free the snapshot.
        await service.TagAsync(ImageName.Parse("life/app:1"), ImageName.Parse("life/app:2"));
        await service.PushAsync(ImageName.Parse("life/app:2"));
        await service.RemoveAsync(ImageName.Parse("life/app:1"), fromRegistry: true);
        await server.Blocks.GcAsync();
        Assert.NotNull(await server.Blocks.GetSnapshotAsync(imported.Snapshot));

        await service.RemoveAsync(ImageName.Parse("life/app:2"), fromRegistry: true);
        await server.Blocks.GcAsync();
        var gone = await Assert.ThrowsAsync<BlockStoreException>(() => server.Blocks.GetSnapshotAsync(imported.Snapshot));
        Assert.Equal(404, gone.StatusCode);
        await StoreState.AssertFsckCleanAsync(server);
    }

    [Fact]
    public async Task Import_from_a_registry_then_pull_push_to_another_registry_name_and_export_as_oci()
    {
        using var work = Scratch.Dir("from-registry");
        var layout = SampleImages.MultiLayer().WriteOciLayout(Path.Combine(work.Path, "layout"), "v1");
        await Tool.RunAsync("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{layout}:v1", $"docker://{server.Registry}/std/sample:v1");

        // docker:// source: the standard image the server's registry holds (what `slacker convert` does).
        var imported = await ImportAsync($"docker://{server.Registry}/std/sample:v1", "conv/sample:v1", work);
        var service = new ImageService(server.Address, new LocalImageStore(Path.Combine(work.Path, "node")));
        var pulled = await service.PullAsync(ImageName.Parse("conv/sample:v1"));
        Assert.Equal(imported.Snapshot, pulled.Image.Snapshot);
        Assert.Single(service.Local.List());

        // Push under a registry-qualified name: the layer now says which server holds the chunks.
        var qualified = ImageName.Parse($"{server.Registry}/mirror/sample:v1");
        await service.TagAsync(ImageName.Parse("conv/sample:v1"), qualified);
        await service.PushAsync(qualified);
        var mirrored = await service.FetchAsync(qualified);
        Assert.Equal(server.Address.ToString(), mirrored.Image.Layer.Server);
        Assert.Equal(imported.Snapshot, mirrored.Image.Snapshot);

        var oci = Path.Combine(work.Path, "exported");
        await ImageExporter.ExportAsync(server.Blocks, pulled.Image, "v1", ExportFormat.OciLayout, oci, work.Path);
        await using var exported = ImageSources.Open($"oci:{oci}:v1");
        var resolved = await exported.ResolveAsync();
        Assert.Single(resolved.Layers);
        Assert.Equal(["/bin/sh"], resolved.Config.Config.Config!.Cmd);

        // The exported image imports to the very same snapshot: the round trip loses nothing that ext4 records.
        var again = await ImportAsync($"oci:{oci}:v1", "roundtrip/sample:v1", work);
        var first = Path.Combine(work.Path, "a.ext4");
        var second = Path.Combine(work.Path, "b.ext4");
        await SnapshotReader.WriteRawAsync(server.Blocks, imported.Snapshot, first);
        await SnapshotReader.WriteRawAsync(server.Blocks, again.Snapshot, second);
        Assert.Equal(await RootFsBuilderTests.ListAsync(first, work), await RootFsBuilderTests.ListAsync(second, work));
    }
}
