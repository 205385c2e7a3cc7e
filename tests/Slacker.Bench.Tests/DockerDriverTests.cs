using System.Net.Http.Json;
using Slacker.Bench.Build;
using Slacker.Bench.Corpus;
using Slacker.Bench.Drivers;
using Slacker.Bench.Parity;
using Slacker.Bench.Processes;
using Slacker.Bench.Runner;
using Slacker.Native.Processes;

namespace Slacker.Bench.Tests;

/// <summary>
/// The docker driver against a real dockerd (the host's, or one this fixture starts and stops by PID) and a
/// real docker-registry on a free loopback port. The busybox corpus image doubles as a server for the
/// waitline and http modes.
/// </summary>
[Collection(RealSystemCollection.Name)]
public sealed class DockerDriverTests(DockerFixture fixture) : IClassFixture<DockerFixture>
{
    private readonly string _work = fixture.Work;
    private readonly DistributionRegistry? _registry = fixture.Registry;
    private readonly DockerDriver? _docker = fixture.Docker;
    private readonly BenchImage? _busybox = fixture.Busybox;

    [Fact]
    public async Task Push_Pull_Run_Cycle_Of_Busybox_Echo()
    {
        var docker = _docker!;
        var image = _busybox!;
        var ct = CancellationToken.None;
        await docker.CleanAsync(image, ct);
        await docker.PrepareAsync(image, ct);

        await docker.PushAsync(image, ct);
        using var http = new HttpClient();
        var tags = await http.GetFromJsonAsync<TagList>(new Uri($"http://{_registry!.Address}/v2/hellobench/busybox/tags/list"));
        Assert.Equal(["latest"], tags!.Tags);

        await docker.ForgetLocalAsync(image, ct);
        Assert.False((await Docker(["image", "inspect", docker.Reference(image)])).Succeeded, "the image must be gone before the pull");

        await docker.PullAsync(image, ct);
        Assert.True((await Docker(["image", "inspect", docker.Reference(image)])).Succeeded);

        var result = await docker.RunAsync(image, Request(image.Entry), ct);
        Assert.Equal("hello", result.Output.Trim());
        Assert.True(result.Elapsed > TimeSpan.Zero);
        Assert.Empty((await Docker(["ps", "-aq", "--filter", "name=^hb-"])).StandardOutput.Trim());

        await docker.CleanAsync(image, ct);
        Assert.Empty((await Docker(["images", "-q", "--filter", $"reference={_registry.Address}/hellobench/*"])).StandardOutput.Trim());
        Assert.False((await http.GetAsync(new Uri($"http://{_registry.Address}/v2/hellobench/busybox/tags/list"))).IsSuccessStatusCode, "registry storage must be empty after clean");
    }

    [Fact]
    public async Task Stdin_WaitLine_And_Http_Jobs_Complete()
    {
        var docker = _docker!;
        var image = _busybox!;
        await docker.CleanAsync(image, CancellationToken.None);
        await docker.PrepareAsync(image, CancellationToken.None);
        var mountSource = Directory.CreateDirectory(Path.Combine(_work, "src")).FullName;
        await File.WriteAllTextAsync(Path.Combine(mountSource, "greeting"), "hello from the mount\n");

        var stdin = image.Entry with { Mode = RunMode.Stdin, Command = ["sh"], Stdin = "cat /src/greeting; echo ok > /src/written\n", Expect = "hello from the mount" };
        var stdinResult = await docker.RunAsync(image, Request(stdin, new MountSpec(mountSource, "/src", false)), CancellationToken.None);
        Assert.Contains("hello from the mount", stdinResult.Output);
        Assert.Equal("ok\n", await File.ReadAllTextAsync(Path.Combine(mountSource, "written")));

        var waitLine = image.Entry with { Mode = RunMode.WaitLine, Command = ["sh", "-c", "echo starting; sleep 0.3; echo ready now >&2; sleep 600"], Marker = "ready now" };
        var waitResult = await docker.RunAsync(image, Request(waitLine), CancellationToken.None);
        Assert.Contains("ready now", waitResult.Output);
        Assert.True(waitResult.Elapsed >= TimeSpan.FromSeconds(0.3));

        var port = FreePort.Pick();
        var httpJob = image.Entry with { Mode = RunMode.Http, Command = ["httpd", "-f", "-p", $"127.0.0.1:{port}", "-h", "/hello"], Port = port, HttpPath = "/hello.txt" };
        var httpResult = await docker.RunAsync(image, Request(httpJob), CancellationToken.None);
        Assert.Contains($"answered http://127.0.0.1:{port}/hello.txt", httpResult.Output);

        Assert.Empty((await Docker(["ps", "-aq", "--filter", "name=^hb-"])).StandardOutput.Trim());
    }

    [Fact]
    public async Task Job_Without_The_Expected_Output_Fails_And_Says_Why()
    {
        var docker = _docker!;
        var image = _busybox!;
        await docker.CleanAsync(image, CancellationToken.None);
        await docker.PrepareAsync(image, CancellationToken.None);
        var wrong = image.Entry with { Expect = "goodbye" };

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => docker.RunAsync(image, Request(wrong), CancellationToken.None));

        Assert.Contains("lacks 'goodbye'", ex.Message);
        var dead = image.Entry with { Mode = RunMode.WaitLine, Command = ["sh", "-c", "echo bye; exit 3"], Marker = "never printed" };
        var early = await Assert.ThrowsAsync<InvalidOperationException>(() => docker.RunAsync(image, Request(dead), CancellationToken.None));
        Assert.Contains("stopped before logging 'never printed'", early.Message);
        Assert.Empty((await Docker(["ps", "-aq", "--filter", "name=^hb-"])).StandardOutput.Trim());
    }

    [Fact]
    public async Task Redis_Parity_Measures_First_Answer_And_Throughput()
    {
        var entry = CorpusFile.Load(CorpusFileTests.RepoCorpusPath())["redis"];
        var image = new BenchImage(entry, await CorpusBuilder.BuildAsync(entry, CorpusCache.Dir, CorpusCache.Progress));
        var resultsPath = Path.Combine(_work, "parity.jsonl");
        using (var records = new RecordLog(resultsPath))
        {
            await ParityRunner.RunAsync(_docker!, image, seconds: 2, reps: 2, records, TextWriter.Null, CancellationToken.None);
        }

        var parity = RecordLog.Read(resultsPath);
        Assert.DoesNotContain(parity, r => r.Kind == "failure");
        Assert.True(Assert.Single(parity, r => r.Op == "first-answer").Seconds > 0);
        var throughput = parity.Where(r => r.Op == "throughput").ToList();
        Assert.Equal([1, 2], throughput.Select(r => r.Rep));
        Assert.All(throughput, r => Assert.True(r.Value > 0 && r.Unit == "GET/s", $"{r.Value} {r.Unit}"));
        Assert.Empty((await Docker(["ps", "-aq", "--filter", "name=^hb-"])).StandardOutput.Trim());
    }

    private static RunRequest Request(CorpusEntry entry, params MountSpec[] mounts) =>
        new() { Entry = entry, ContainerName = "hb-test-" + Guid.NewGuid().ToString("N")[..8], Mounts = mounts };

    private Task<ProcessResult> Docker(IEnumerable<string> args) =>
        new ContainerCli(DockerEngine.DefaultClient, DockerHostArguments()).RunAsync(args, CancellationToken.None);

    private string[] DockerHostArguments()
    {
        var socket = Path.Combine(_work, "docker", "docker.sock");
        return File.Exists(socket) ? ["-H", "unix://" + socket] : [];
    }

    private sealed record TagList(string Name, string[] Tags);
}

/// <summary>One registry and one docker driver (so at most one dockerd start) for all tests of the class.</summary>
public sealed class DockerFixture : IAsyncLifetime
{
    public string Work { get; } = Directory.CreateTempSubdirectory("hb-docker-").FullName;

    public DistributionRegistry? Registry { get; private set; }

    public DockerDriver? Docker { get; private set; }

    public BenchImage? Busybox { get; private set; }

    public async Task InitializeAsync()
    {
        var layout = await CorpusBuilder.BuildBusyboxAsync(CorpusCache.Dir, CorpusCache.Progress);
        Busybox = new BenchImage(DefaultCorpus.Load(CorpusCache.Dir)["busybox"], layout);
        Registry = await DistributionRegistry.StartAsync(Work, CancellationToken.None);
        Docker = new DockerDriver(Work, Registry, DockerEngine.DefaultClient);
        var problem = await Docker.StartAsync(CancellationToken.None);
        if (problem is not null)
        {
            throw new InvalidOperationException(problem);
        }
    }

    public async Task DisposeAsync()
    {
        if (Docker is not null)
        {
            await Docker.DisposeAsync();
        }

        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        MountCleanup.UnmountBelow(Work);
        Directory.Delete(Work, recursive: true);
    }
}
