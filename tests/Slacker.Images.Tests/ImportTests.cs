using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Distribution;
using Slacker.Images.Import;
using Slacker.Images.Layers;
using Slacker.Images.Sources;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>`slacker import` end to end: real sources, real ext4, a real server and its registry.</summary>
public sealed class ImportTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private async Task<ImportedImage> ImportAsync(string source, string name, TempDirectory work, ImportOptions? options = null)
    {
        using var registry = new RegistryClient(server.Address);
        await using var image = ImageSources.Open(source);
        return await new ImageImporter(server.Blocks, registry, server.UploadVolume).ImportAsync(image, ImageName.Parse(name), (options ?? new ImportOptions()) with { WorkDirectory = work.Path });
    }

    [Fact]
    public async Task Import_makes_a_slacker_image_whose_tag_keeps_its_snapshot()
    {
        using var work = Scratch.Dir("import");
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "sample.tar"), "sample:1");
        var imported = await ImportAsync($"docker-archive:{archive}", "import/sample:1", work);

        using var registry = new RegistryClient(server.Address);
        var manifest = await registry.GetManifestAsync("import/sample", "1");
        Assert.Equal(imported.Manifest, manifest.Digest);
        var layer = Assert.Single(manifest.Manifest!.Layers!);
        Assert.Equal(SlackerImageLayer.MediaType, layer.MediaType);
        var snapshotLayer = JsonSerializer.Deserialize(await ReadBlobAsync(registry, "import/sample", layer.Digest), CoreJsonContext.Default.SlackerImageLayer)!;
        Assert.Equal(imported.Snapshot.ToString(), snapshotLayer.Snapshot);
        Assert.Equal("ext4", snapshotLayer.FileSystem);
        Assert.True(snapshotLayer.Flattened);

        var config = Oci.ImageConfigDocument.Parse(await ReadBlobAsync(registry, "import/sample", manifest.Manifest.Config!.Digest));
        Assert.Equal(["/bin/sh"], config.Config.Config!.Cmd);
        Assert.Contains("GREETING=hello", config.Config.Config.Env!);
        Assert.Equal([layer.Digest], config.Config.RootFs!.DiffIds);

        var snapshot = await server.Blocks.GetSnapshotAsync(imported.Snapshot);
        Assert.True(snapshot.Released);
        Assert.Contains(snapshot.ReferencedBy, r => r.Contains("import/sample", StringComparison.Ordinal));
        Assert.Empty(await server.Blocks.ListVolumesAsync());
        await StoreState.AssertFsckCleanAsync(server);
    }

    [Fact]
    public async Task Importing_the_same_image_twice_uploads_no_new_chunk()
    {
        using var work = Scratch.Dir("reimport");
        // A layer of its own, so that no other test has uploaded these chunks already.
        var image = new TestImage([.. SampleImages.MultiLayer().LayerTars, new LayerBuilder().File("unique", Guid.NewGuid().ToString()).Tar()]);
        var layout = image.WriteOciLayout(Path.Combine(work.Path, "layout"), "v1");
        var first = await ImportAsync($"oci:{layout}:v1", "reimport/a:v1", work);
        var second = await ImportAsync($"oci:{layout}:v1", "reimport/b:v1", work);

        Assert.True(first.UploadedChunks > 0);
        Assert.Equal(0, second.UploadedChunks);
        Assert.Equal(first.Snapshot, second.Snapshot);
        Assert.Equal(first.Manifest, second.Manifest);
    }

    public static TheoryData<string> HostileImages => new()
    {
        "path-traversal", "absolute-path", "symlink-escape", "hardlink-outside", "enormous-size", "truncated", "duplicate-entry",
        "whiteout-of-root", "diff-id-mismatch", "blob-digest-mismatch", "missing-blob", "gzip-bomb",
    };

    [Theory]
    [MemberData(nameof(HostileImages))]
    public async Task A_hostile_image_is_refused_and_the_store_is_unchanged(string kind)
    {
        using var work = Scratch.Dir("hostile");
        var layout = HostileLayout(kind, Path.Combine(work.Path, "layout"));
        var before = await StoreState.ReadAsync(server);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => ImportAsync($"oci:{layout}:v1", $"hostile/{kind}:v1", work,
            new ImportOptions { Limits = new LayerLimits { MaxUncompressedBytes = 64L << 20 } }));
        Assert.True(error is LayerRejectedException or Oci.ImageFormatException or BlobVerificationException, error.ToString());
        Assert.Contains(kind switch
        {
            "missing-blob" => "missing",
            "blob-digest-mismatch" => "digest",
            "diff-id-mismatch" => "digest-mismatch",
            "gzip-bomb" => "decompression-limit",
            _ => kind,
        }, error.Message, StringComparison.Ordinal);

        Assert.Equal(before, await StoreState.ReadAsync(server));
        await StoreState.AssertFsckCleanAsync(server);
        Assert.Empty(Directory.EnumerateDirectories(work.Path, "slacker-import-*"));
    }

    private static string HostileLayout(string kind, string directory)
    {
        var ok = new LayerBuilder().Dir("etc/").File("etc/hostname", "ok\n").Tar();
        byte[] evil = kind switch
        {
            "path-traversal" => new LayerBuilder().File("../../etc/cron.d/evil", "x").Tar(),
            "absolute-path" => new LayerBuilder().File("/etc/evil", "x").Tar(),
            "symlink-escape" => new LayerBuilder().Symlink("escape", "/").File("escape/root/pwned", "x").Tar(),
            "hardlink-outside" => new LayerBuilder().HardLink("shadow", "../../../etc/shadow").Tar(),
            "enormous-size" => [.. RawTar.Header("huge", 1L << 50), .. RawTar.EndMarker],
            "truncated" => new LayerBuilder().File("a", new byte[100_000].Select((_, i) => (byte)i).ToArray()).Tar()[..20_480],
            "duplicate-entry" => new LayerBuilder().File("etc/passwd", "a").File("etc/passwd", "b").Tar(),
            "whiteout-of-root" => new LayerBuilder().File(".wh..", "").Tar(),
            "gzip-bomb" => Bomb(),
            _ => new LayerBuilder().File("fine", "fine").Tar(),
        };
        var image = new TestImage(ok, evil);
        image.WriteOciLayout(directory, "v1", gzip: kind != "gzip-bomb");
        var blobs = Path.Combine(directory, "blobs", "sha256");
        if (kind == "gzip-bomb")
        {
            // The bomb is the gzip itself; its diff_id is unknowable without inflating it, so only the limit can stop it.
            ReplaceLayer(directory, 1, Compress.Gzip(evil), fixDiffId: false);
        }
        else if (kind == "diff-id-mismatch")
        {
            ReplaceLayer(directory, 1, Compress.Gzip(new LayerBuilder().File("fine", "other").Tar()), fixDiffId: false);
        }
        else if (kind == "blob-digest-mismatch")
        {
            var layer = Digest.Compute(Compress.Gzip(evil)).Hex;
            var bytes = File.ReadAllBytes(Path.Combine(blobs, layer));
            bytes[^10] ^= 0xFF;
            File.WriteAllBytes(Path.Combine(blobs, layer), bytes);
        }
        else if (kind == "missing-blob")
        {
            File.Delete(Path.Combine(blobs, Digest.Compute(Compress.Gzip(evil)).Hex));
        }

        return directory;
    }

    private static byte[] Bomb()
    {
        // One small entry, then 256 MiB of zeros in the same stream.
        var tar = new LayerBuilder().File("small", "x").Tar();
        return [.. tar, .. new byte[256 << 20]];
    }

    /// <summary>Swaps layer <paramref name="index"/> of the layout's manifest for <paramref name="blob"/>, keeping the config's diff_ids.</summary>
    private static void ReplaceLayer(string directory, int index, byte[] blob, bool fixDiffId)
    {
        var blobs = Path.Combine(directory, "blobs", "sha256");
        var digest = Digest.Compute(blob);
        File.WriteAllBytes(Path.Combine(blobs, digest.Hex), blob);
        var indexJson = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, "index.json")), Oci.ImagesJsonContext.Default.OciIndex)!;
        var manifestDescriptor = indexJson.Manifests![0];
        var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(blobs, Digest.Parse(manifestDescriptor.Digest).Hex)), Oci.ImagesJsonContext.Default.OciManifest)!;
        var layers = manifest.Layers!.ToList();
        layers[index] = layers[index] with { Digest = digest.ToString(), Size = blob.Length };
        Assert.False(fixDiffId);
        var newManifest = JsonSerializer.SerializeToUtf8Bytes(manifest with { Layers = layers }, Oci.ImagesJsonContext.Default.OciManifest);
        var newDigest = Digest.Compute(newManifest);
        File.WriteAllBytes(Path.Combine(blobs, newDigest.Hex), newManifest);
        var newIndex = indexJson with { Manifests = [manifestDescriptor with { Digest = newDigest.ToString(), Size = newManifest.Length }] };
        File.WriteAllBytes(Path.Combine(directory, "index.json"), JsonSerializer.SerializeToUtf8Bytes(newIndex, Oci.ImagesJsonContext.Default.OciIndex));
    }

    private static async Task<byte[]> ReadBlobAsync(RegistryClient registry, string repository, string digest)
    {
        await using var stream = await registry.OpenBlobAsync(repository, Digest.Parse(digest));
        var output = new MemoryStream();
        await stream.CopyToAsync(output);
        return output.ToArray();
    }
}
