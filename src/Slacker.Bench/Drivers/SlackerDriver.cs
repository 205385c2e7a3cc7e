using System.Text.Json;
using Slacker.Native.Processes;
using Slacker.Node.Agent;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Slacker through its CLI, one process per command as a user runs it, against a server and node the bench
/// starts on loopback (<see cref="SlackerServices"/>).
/// The image is built on the node once (`slacker import` under a development name: the flattened ext4 volume is
/// written to the storage server and snapshotted, as a developer's volume lives on Slacker's shared storage).
/// Every cycle then removes the published name from the registry, tags the development image with it and times
/// `push` (publishes name:tag -> snapshot; no chunk moves, the server has them), removes the node's copy and
/// empties the node chunk cache, and times `pull` (an O(1) manifest read) and `run` (a clone, fetched lazily).
/// Bytes fetched and read during the run come from `slacker stats NAME --format json`.
/// The same driver measures the cluster ("slacker-cluster"): only the server's stores differ.
/// </summary>
public sealed class SlackerDriver(string cliPath, string workDirectory, SlackerBackend backend = SlackerBackend.Embedded) : IContainerCliSystem
{
    private static readonly string[] DrivenCommands = ["import", "push", "pull", "run", "stats", "tag", "rmi"];

    private readonly HashSet<string> _imported = [];
    private readonly List<string> _containers = [];
    private SlackerServices? _services;
    private ContainerCli _cli = SlackerExecutable.Cli(cliPath);

    public const string ClusterName = "slacker-cluster";

    public string Name => backend == SlackerBackend.Cluster ? ClusterName : "slacker";

    public ContainerCli Cli => _cli;

    /// <summary>The name a cycle pushes, pulls and runs.</summary>
    public static string Reference(BenchImage image) => $"{image.Repository}:latest";

    /// <summary>The name the image was built under on the node; it keeps the snapshot referenced between cycles.</summary>
    public static string DevelopmentReference(BenchImage image) => $"dev/{image.Repository}:latest";

    string IContainerCliSystem.Reference(BenchImage image) => Reference(image);

    public async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        ProcessResult help;
        try
        {
            help = await _cli.RunAsync(["--help"], cancellationToken, timeout: TimeSpan.FromMinutes(1));
        }
        catch (InvalidOperationException ex)
        {
            return $"the slacker CLI '{cliPath}' cannot be started ({ex.Message.Split('\n')[0]}); pass --slacker-cli PATH or set {SlackerExecutable.EnvironmentVariable}.";
        }

        if (!help.Succeeded)
        {
            return $"the slacker CLI '{cliPath}' does not run (`--help` exited {help.ExitCode}): {help.StandardError.Trim()}";
        }

        var missing = DrivenCommands.Where(c => !help.StandardOutput.Contains(c, StringComparison.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            return $"the slacker CLI '{cliPath}' lacks the command(s) {string.Join(", ", missing)} that the bench drives.";
        }

        _services = await SlackerServices.StartAsync(_cli, workDirectory, backend, cancellationToken);
        _cli = SlackerExecutable.Cli(cliPath, _services.Environment);
        return null;
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var version = await _cli.RunAsync(["--version"], cancellationToken);
        var kind = _cli.Binary == "dotnet" ? "managed build under dotnet" : "native binary";
        return $"slacker {version.StandardOutput.Trim()} ({kind}; server {_services?.ServerUrl} on {_services?.StorageDescription}, node {_services?.NodeSocket})";
    }

    /// <summary>Leftover containers of this driver go, and the published name leaves the registry, so push publishes it again.</summary>
    public async Task CleanAsync(BenchImage image, CancellationToken cancellationToken)
    {
        foreach (var name in _containers)
        {
            await _cli.RunAsync(["rm", "-f", name], cancellationToken);
        }

        _containers.Clear();
        if (_imported.Contains(image.Name))
        {
            // Exit 1 only means "no such image" (first cycle); anything else shows up in the push that follows.
            await _cli.RunAsync(["rmi", "--registry", Reference(image)], cancellationToken);
        }
    }

    public async Task PrepareAsync(BenchImage image, CancellationToken cancellationToken)
    {
        if (_imported.Add(image.Name))
        {
            await _cli.MustAsync($"slacker import of {image.Name}", ["import", image.Layout.Reference, DevelopmentReference(image)], cancellationToken);
        }

        await _cli.MustAsync($"slacker tag of {image.Name}", ["tag", DevelopmentReference(image), Reference(image)], cancellationToken);
    }

    public Task PushAsync(BenchImage image, CancellationToken cancellationToken) =>
        _cli.MustAsync($"slacker push of {image.Name}", ["push", Reference(image)], cancellationToken);

    public async Task ForgetLocalAsync(BenchImage image, CancellationToken cancellationToken)
    {
        await _cli.MustAsync($"slacker rmi of {image.Name}", ["rmi", Reference(image)], cancellationToken);
        await _cli.MustAsync("emptying the slacker node chunk cache", ["node", "prune-cache"], cancellationToken);
    }

    public Task PullAsync(BenchImage image, CancellationToken cancellationToken) =>
        _cli.MustAsync($"slacker pull of {image.Name}", ["pull", Reference(image)], cancellationToken);

    public async Task<RunResult> RunAsync(BenchImage image, RunRequest request, CancellationToken cancellationToken)
    {
        _containers.Add(request.ContainerName);
        RunStats stats = default;
        var result = await HelloJob.RunAsync(_cli, Reference(image), request, IsRunningAsync, cancellationToken, async ct =>
        {
            var output = await _cli.MustAsync($"slacker stats of {request.ContainerName}", ["stats", request.ContainerName, "--format", "json"], ct);
            stats = ReadStats(output.StandardOutput);
        });
        return result with { BytesFetched = stats.Fetched, BytesRead = stats.Read, ImageBytes = stats.ImageBytes };
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    /// <summary>`slacker stats --format json`: what the node fetched and what the kernel read, and the volume's size.</summary>
    internal static RunStats ReadStats(string json)
    {
        ContainerStats? stats;
        try
        {
            stats = JsonSerializer.Deserialize(json, AgentJsonContext.Default.ContainerStats);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"`slacker stats --format json` did not print a container's stats: {ex.Message}\n{json}", ex);
        }

        if (stats?.VolumeStats is not { } volume)
        {
            throw new InvalidDataException($"`slacker stats --format json` printed no volume figures (the container's root was never attached):\n{json}");
        }

        return new RunStats(volume.BytesFetched, volume.BytesRead, stats.ImageBytes);
    }

    private async Task<bool> IsRunningAsync(string container, CancellationToken cancellationToken)
    {
        var inspect = await _cli.RunAsync(["container", "inspect", container], cancellationToken);
        if (!inspect.Succeeded)
        {
            return false;
        }

        var records = JsonSerializer.Deserialize(inspect.StandardOutput, AgentJsonContext.Default.IReadOnlyListContainerRecord);
        return records is [{ Status: Slacker.Node.Containers.ContainerStatus.Running }];
    }

    internal readonly record struct RunStats(long? Fetched, long? Read, long? ImageBytes);
}
