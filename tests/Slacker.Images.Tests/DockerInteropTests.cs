using Slacker.Images.Export;
using Slacker.Images.Ext4;
using Slacker.Images.Import;
using Slacker.Images.Operations;
using Slacker.Images.Sources;
using Slacker.Images.Store;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>
/// Against a real dockerd: docker pushes to and pulls from the server's registry, and the tree Slacker builds
/// for an image is the tree docker's overlay2 shows for it, both on import and after export + docker load.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class DockerInteropTests(DockerFixture docker, ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Docker_pushes_to_and_pulls_from_the_server()
    {
        using var work = Scratch.Dir("docker-push");
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "sample.tar"), "sample:push");
        await docker.RunAsync("load", "-i", archive);
        var remote = $"{server.Registry}/docker/sample:1";
        await docker.RunAsync("tag", "sample:push", remote);
        await docker.RunAsync("push", remote);
        var id = (await docker.RunAsync("image", "inspect", "--format", "{{.Id}}", remote)).Trim();
        await docker.RunAsync("rmi", remote, "sample:push");

        await docker.RunAsync("pull", remote);
        Assert.Equal(id, (await docker.RunAsync("image", "inspect", "--format", "{{.Id}}", remote)).Trim());
        await docker.RunAsync("rmi", remote);
    }

    [Fact]
    public async Task The_flattened_tree_is_the_tree_docker_shows_and_survives_export_and_docker_load()
    {
        using var work = Scratch.Dir("docker-tree");
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "sample.tar"), "sample:tree");
        await docker.RunAsync("load", "-i", archive);
        var dockerTree = await OverlayListingAsync("sample:tree", work);

        // Slacker's side: import, then read the snapshot back from the server and list it.
        var imported = await ImportAsync($"docker-archive:{archive}", "tree/sample:1", work);
        var raw = Path.Combine(work.Path, "snapshot.ext4");
        await SnapshotReader.WriteRawAsync(server.Blocks, imported.Snapshot, raw);
        var slackerTree = Normalize(await RootFsBuilderTests.ListAsync(raw, work));
        Assert.Equal(dockerTree, slackerTree);

        // Export and docker load: the one-layer image has the same tree again.
        var service = new ImageService(server.Address, new LocalImageStore(Path.Combine(work.Path, "node-images")));
        var resolved = await service.ResolveAsync(ImageName.Parse("tree/sample:1"));
        var exported = Path.Combine(work.Path, "exported.tar");
        await ImageExporter.ExportAsync(server.Blocks, resolved.Image, "exported:1", ExportFormat.DockerArchive, exported, work.Path);
        await docker.RunAsync("load", "-i", exported);
        Assert.Equal(dockerTree, await OverlayListingAsync("exported:1", work));
        var env = await docker.RunAsync("image", "inspect", "--format", "{{json .Config.Env}}", "exported:1");
        Assert.Contains("GREETING=hello", env);
        await docker.RunAsync("rmi", "exported:1", "sample:tree");
    }

    private async Task<ImportedImage> ImportAsync(string source, string name, TempDirectory work)
    {
        using var registry = new Distribution.RegistryClient(server.Address);
        await using var image = ImageSources.Open(source);
        return await new ImageImporter(server.Blocks, registry, server.UploadVolume).ImportAsync(image, ImageName.Parse(name), new ImportOptions { WorkDirectory = work.Path });
    }

    private async Task<string> OverlayListingAsync(string image, TempDirectory work)
    {
        var mountPoint = Path.Combine(work.Path, "overlay-" + Guid.NewGuid().ToString("N")[..8]);
        await docker.MountImageAsync(image, mountPoint);
        try
        {
            return Normalize(TreeListing.Of(mountPoint));
        }
        finally
        {
            await Tool.RunAsync("umount", mountPoint);
        }
    }

    /// <summary>overlayfs reports a hard link's count from its lower layer, whatever the upper layers did; compare everything else.</summary>
    private static string Normalize(string listing) =>
        System.Text.RegularExpressions.Regex.Replace(listing, " links=[0-9]+", "");
}
