using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>skopeo, a third-party client, copies an image into the server's registry and back out unchanged.</summary>
public sealed class SkopeoRoundTripTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Skopeo_copies_an_image_in_and_back_out_byte_for_byte()
    {
        using var work = Scratch.Dir("skopeo");
        var source = SampleImages.MultiLayer().WriteOciLayout(Path.Combine(work.Path, "in"), "v1");
        var target = $"docker://{server.Registry}/skopeo/sample:v1";
        await Tool.RunAsync("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{source}:v1", target);
        await Tool.RunAsync("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", target, $"oci:{Path.Combine(work.Path, "out")}:v1");

        var inBlobs = Directory.GetFiles(Path.Combine(source, "blobs", "sha256")).Select(Path.GetFileName).Order().ToList();
        var outBlobs = Directory.GetFiles(Path.Combine(work.Path, "out", "blobs", "sha256")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(inBlobs, outBlobs);
        foreach (var name in inBlobs)
        {
            Assert.Equal(
                await File.ReadAllBytesAsync(Path.Combine(source, "blobs", "sha256", name!)),
                await File.ReadAllBytesAsync(Path.Combine(work.Path, "out", "blobs", "sha256", name!)));
        }

        var tags = await Tool.RunAsync("skopeo", "list-tags", "--tls-verify=false", $"docker://{server.Registry}/skopeo/sample");
        Assert.Contains("\"v1\"", tags);
    }
}
