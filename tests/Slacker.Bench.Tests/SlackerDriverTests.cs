using Slacker.Bench.Corpus;
using Slacker.Bench.Drivers;
using Slacker.Bench.Oci;

namespace Slacker.Bench.Tests;

/// <summary>
/// The slacker driver's command lines, checked against a stand-in CLI that records its arguments (the real
/// CLI does not have these commands yet). This pins the contract the CLI must meet.
/// </summary>
public sealed class SlackerDriverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-slacker-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Cycle_Issues_The_Documented_Cli_Commands_And_Reads_Stats()
    {
        var log = Path.Combine(_dir, "calls.log");
        var cli = StubCli(log, "Commands: import push pull run stats rmi logs kill rm node");
        var entry = DefaultCorpus.Load(_dir)["busybox"];
        var image = new BenchImage(entry, new OciLayoutRef("/images/busybox", "latest") { ManifestDigest = "sha256:00", Layers = [] });
        await using var driver = new SlackerDriver(cli, SlackerDriver.DefaultDropCache);
        var ct = CancellationToken.None;

        Assert.Null(await driver.StartAsync(ct));
        await driver.PrepareAsync(image, ct);
        await driver.PrepareAsync(image, ct);
        await driver.PushAsync(image, ct);
        await driver.ForgetLocalAsync(image, ct);
        await driver.PullAsync(image, ct);
        var result = await driver.RunAsync(image, new RunRequest { Entry = entry, ContainerName = "hb-busybox-1-abc", Mounts = [] }, ct);

        Assert.Equal(4096, result.BytesFetched);
        Assert.Equal(1_048_576, result.ImageBytes);
        Assert.Equal(
            [
                "--help",
                "import oci:/images/busybox:latest hellobench/busybox:latest",
                "push hellobench/busybox:latest",
                "rmi hellobench/busybox:latest",
                "node prune-cache",
                "pull hellobench/busybox:latest",
                "run --name hb-busybox-1-abc --network host hellobench/busybox:latest echo hello",
                "stats hb-busybox-1-abc --format json",
                "rm -f hb-busybox-1-abc",
            ],
            File.ReadAllLines(log));
    }

    [Fact]
    public async Task Cli_Without_The_Driven_Commands_Is_Skipped_With_The_Reason()
    {
        var cli = StubCli(Path.Combine(_dir, "calls.log"), "Commands: server fsck gc");
        await using var driver = new SlackerDriver(cli, SlackerDriver.DefaultDropCache);

        var reason = await driver.StartAsync(CancellationToken.None);

        Assert.Contains("lacks the command(s) import, push, pull, run, stats", reason);
        var missing = new SlackerDriver(Path.Combine(_dir, "absent"), SlackerDriver.DefaultDropCache);
        Assert.Contains("--slacker-cli", await missing.StartAsync(CancellationToken.None));
    }

    private string StubCli(string log, string help)
    {
        var path = Path.Combine(_dir, "slacker");
        File.WriteAllText(path, $$"""
            #!/bin/sh
            echo "$*" >> '{{log}}'
            case "$1" in
              --help) echo '{{help}}' ;;
              run) echo hello ;;
              stats) echo '{"name": "x", "imageBytes": 1048576, "volumeStats": {"chunksFetched": 1, "bytesFetched": 4096 } }' ;;
            esac
            exit 0
            """);
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }
}
