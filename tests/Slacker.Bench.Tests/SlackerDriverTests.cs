using Slacker.Bench.Build;
using Slacker.Bench.Drivers;
using Slacker.Bench.Processes;
using Slacker.Testing;

namespace Slacker.Bench.Tests;

/// <summary>
/// The slacker driver against the real CLI, with the server and node it starts itself: cycles of push, pull on
/// an empty node cache and run, as `slacker bench` does them, on the embedded stores and on the cluster's
/// (a PostgreSQL and a Ceph S3 bucket the driver starts itself).
/// </summary>
[Collection(RealSystemCollection.Name)]
public sealed class SlackerDriverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-slacker-").FullName;

    public void Dispose()
    {
        MountCleanup.UnmountBelow(_dir);
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(SlackerBackend.Embedded)]
    [InlineData(SlackerBackend.Cluster)]
    public async Task Two_Cycles_Of_Busybox_Push_Pull_And_Run_Lazily_And_Leave_Nothing_Behind(SlackerBackend backend)
    {
        var ct = CancellationToken.None;
        var layout = await CorpusBuilder.BuildBusyboxAsync(CorpusCache.Dir, CorpusCache.Progress, ct);
        var entry = Corpus.DefaultCorpus.Load(CorpusCache.Dir)["busybox"];
        var image = new BenchImage(entry, layout);
        var work = Path.Combine(_dir, "work");
        var results = new List<RunResult>();

        await using (var driver = new SlackerDriver(SlackerProcess.Executable, work, backend))
        {
            Assert.Null(await driver.StartAsync(ct));
            var version = await driver.VersionAsync(ct);
            Assert.Contains("slacker", version);
            Assert.Equal(backend == SlackerBackend.Cluster, version.Contains("postgres://", StringComparison.Ordinal) && version.Contains("s3://", StringComparison.Ordinal));
            for (var rep = 1; rep <= 2; rep++)
            {
                await driver.CleanAsync(image, ct);
                await driver.PrepareAsync(image, ct);
                await driver.PushAsync(image, ct);
                await driver.ForgetLocalAsync(image, ct);

                // After forget, the node no longer has the image; pull brings it back.
                var images = await driver.Cli.MustAsync("images", ["images"], ct);
                Assert.DoesNotContain(images.StandardOutput.Split('\n'), line => line.StartsWith(image.Repository + " ", StringComparison.Ordinal));
                await driver.PullAsync(image, ct);
                results.Add(await driver.RunAsync(image, new RunRequest { Entry = entry, ContainerName = $"hb-busybox-{rep}", Mounts = [] }, ct));
            }

            var listed = await driver.Cli.MustAsync("ps", ["ps", "-a", "-q"], ct);
            Assert.Equal(string.Empty, listed.StandardOutput.Trim());
        }

        foreach (var run in results)
        {
            Assert.Contains("hello", run.Output, StringComparison.Ordinal);
            Assert.InRange(run.BytesFetched!.Value, 1, run.ImageBytes!.Value / 10);
            Assert.True(run.BytesRead > 0, $"the kernel read nothing from the volume: {run.BytesRead}");
        }

        // The node cache was emptied before each pull, so the second run fetched again, about as much as the first.
        Assert.InRange(results[1].BytesFetched!.Value, results[0].BytesFetched!.Value / 2, results[0].BytesFetched!.Value * 2);
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(work, StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFileSystemEntries(work));
    }

    [Fact]
    public async Task A_Cli_That_Is_Not_Slacker_Is_Skipped_With_The_Reason()
    {
        await using var absent = new SlackerDriver(Path.Combine(_dir, "absent"), Path.Combine(_dir, "work"));
        Assert.Contains("--slacker-cli", await absent.StartAsync(CancellationToken.None));

        // /bin/true runs and prints no help at all: every driven command is missing.
        await using var notSlacker = new SlackerDriver("/bin/true", Path.Combine(_dir, "work"));
        Assert.Contains("lacks the command(s) import, push, pull, run, stats", await notSlacker.StartAsync(CancellationToken.None));
    }
}
