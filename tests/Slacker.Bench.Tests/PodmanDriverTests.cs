using Slacker.Bench.Build;
using Slacker.Bench.Corpus;
using Slacker.Bench.Drivers;
using Slacker.Bench.Processes;

namespace Slacker.Bench.Tests;

[Collection(RealSystemCollection.Name)]
public sealed class PodmanDriverTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("hb-podman-").FullName;

    public void Dispose()
    {
        MountCleanup.UnmountBelow(_work);
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Push_Pull_Run_Cycle_Of_Busybox_Echo()
    {
        var layout = await CorpusBuilder.BuildBusyboxAsync(CorpusCache.Dir, CorpusCache.Progress);
        var image = new BenchImage(DefaultCorpus.Load(CorpusCache.Dir)["busybox"], layout);
        var ct = CancellationToken.None;
        await using var registry = await DistributionRegistry.StartAsync(_work, ct);
        await using var podman = new PodmanDriver(_work, registry);
        Assert.Null(await podman.StartAsync(ct));

        await podman.CleanAsync(image, ct);
        await podman.PrepareAsync(image, ct);
        await podman.PushAsync(image, ct);
        await podman.ForgetLocalAsync(image, ct);
        await podman.PullAsync(image, ct);
        var result = await podman.RunAsync(image, new RunRequest { Entry = image.Entry, ContainerName = "hb-podman-test", Mounts = [] }, ct);

        Assert.Equal("hello", result.Output.Trim());
        Assert.Contains("podman 4.", await podman.VersionAsync(ct));
    }
}
