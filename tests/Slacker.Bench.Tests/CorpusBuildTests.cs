using System.Text.Json;
using Slacker.Bench.Build;
using Slacker.Native.Processes;

namespace Slacker.Bench.Tests;

[Collection(RealSystemCollection.Name)]
public sealed class CorpusBuildTests
{
    [Theory]
    [InlineData("busybox")]
    [InlineData("debian")]
    public async Task Tiny_Image_Builds_Into_Cache_And_Skopeo_Reads_Three_Layers(string name)
    {
        var image = await CorpusBuilder.BuildDefaultAsync(name, CorpusCache.Dir, CorpusCache.Progress);

        var inspect = await ProcessRunner.RunAsync("skopeo", ["inspect", image.Reference]);
        inspect.EnsureSuccess($"skopeo inspect {image.Reference}");
        using var doc = JsonDocument.Parse(inspect.StandardOutput);
        Assert.Equal(3, doc.RootElement.GetProperty("Layers").GetArrayLength());
        Assert.Equal(image.ManifestDigest, doc.RootElement.GetProperty("Digest").GetString());

        var config = await ProcessRunner.RunAsync("skopeo", ["inspect", "--config", image.Reference]);
        config.EnsureSuccess($"skopeo inspect --config {image.Reference}");
        using var configDoc = JsonDocument.Parse(config.StandardOutput);
        Assert.Contains(
            configDoc.RootElement.GetProperty("config").GetProperty("Env").EnumerateArray(),
            e => e.GetString()!.StartsWith("PATH=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rebuilding_An_Image_Gives_The_Same_Digests()
    {
        var first = await CorpusBuilder.BuildBusyboxAsync(CorpusCache.Dir, CorpusCache.Progress);
        var second = await CorpusBuilder.BuildBusyboxAsync(CorpusCache.Dir, CorpusCache.Progress);

        Assert.Equal(first.ManifestDigest, second.ManifestDigest);
        Assert.Equal(first.Layers.Select(l => l.Digest), second.Layers.Select(l => l.Digest));
        Assert.Equal(first.Path, second.Path);
    }
}
