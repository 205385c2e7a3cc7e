using System.Text.Json;
using Slacker.Bench.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Slacker through its CLI, invoked as a process. The image is imported once (it is "built" on the node);
/// every cycle then pushes (name:tag -> snapshot), removes the local image, empties the node chunk cache,
/// pulls (a clone) and runs. Bytes fetched during the run come from `slacker stats NAME --format json`.
/// The server and node are whatever the CLI reaches with its own configuration (SLACKER_SERVER etc.).
/// </summary>
public sealed class SlackerDriver(string cliPath, string dropCacheArguments) : IContainerCliSystem
{
    /// <summary>`slacker node prune-cache`: empties the node chunk cache (the node refuses while containers run).</summary>
    public const string DefaultDropCache = "node prune-cache";

    private static readonly string[] FetchedFields = ["bytesFetched", "fetchedBytes", "bytes_fetched", "BytesFetched"];
    private static readonly string[] SizeFields = ["volumeBytes", "imageBytes", "sizeBytes", "size"];
    private static readonly string[] DrivenCommands = ["import", "push", "pull", "run", "stats"];

    private readonly ContainerCli _cli = new(cliPath, []);
    private readonly HashSet<string> _imported = [];
    private readonly List<string> _containers = [];

    public string Name => "slacker";

    public ContainerCli Cli => _cli;

    public static string Reference(BenchImage image) => $"{image.Repository}:latest";

    string IContainerCliSystem.Reference(BenchImage image) => Reference(image);

    public async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var help = await _cli.RunAsync(["--help"], cancellationToken, timeout: TimeSpan.FromMinutes(1));
            if (!help.Succeeded)
            {
                return $"the slacker CLI at '{cliPath}' does not run (`--help` exited {help.ExitCode}): {help.StandardError.Trim()}";
            }

            var missing = DrivenCommands.Where(c => !help.StandardOutput.Contains(c, StringComparison.Ordinal)).ToList();
            return missing.Count == 0
                ? null
                : $"the slacker CLI at '{cliPath}' lacks the command(s) {string.Join(", ", missing)} that the bench drives; slacker results are pending until it has them.";
        }
        catch (InvalidOperationException ex)
        {
            return $"the slacker CLI is not available ({ex.Message.Split('\n')[0]}); pass --slacker-cli PATH or set SLACKER_CLI.";
        }
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var version = await _cli.RunAsync(["--version"], cancellationToken);
        return $"slacker {version.StandardOutput.Trim()}";
    }

    /// <summary>Removes only containers this driver started (a node may be shared); normally HelloJob already did.</summary>
    public async Task CleanAsync(BenchImage image, CancellationToken cancellationToken)
    {
        foreach (var name in _containers)
        {
            await _cli.RunAsync(["rm", "-f", name], cancellationToken);
        }

        _containers.Clear();
    }

    public async Task PrepareAsync(BenchImage image, CancellationToken cancellationToken)
    {
        if (_imported.Add(image.Name))
        {
            await _cli.MustAsync($"slacker import of {image.Name}", ["import", image.Layout.Reference, Reference(image)], cancellationToken);
        }
    }

    public Task PushAsync(BenchImage image, CancellationToken cancellationToken) =>
        _cli.MustAsync($"slacker push of {image.Name}", ["push", Reference(image)], cancellationToken);

    public async Task ForgetLocalAsync(BenchImage image, CancellationToken cancellationToken)
    {
        await _cli.MustAsync($"slacker rmi of {image.Name}", ["rmi", Reference(image)], cancellationToken);
        await _cli.MustAsync("emptying the slacker node chunk cache", dropCacheArguments.Split(' ', StringSplitOptions.RemoveEmptyEntries), cancellationToken);
    }

    public Task PullAsync(BenchImage image, CancellationToken cancellationToken) =>
        _cli.MustAsync($"slacker pull of {image.Name}", ["pull", Reference(image)], cancellationToken);

    public async Task<RunResult> RunAsync(BenchImage image, RunRequest request, CancellationToken cancellationToken)
    {
        _containers.Add(request.ContainerName);
        long? fetched = null, size = null;
        var result = await HelloJob.RunAsync(_cli, Reference(image), request, isRunning: null, cancellationToken, async ct =>
        {
            var stats = await _cli.MustAsync($"slacker stats of {request.ContainerName}", ["stats", request.ContainerName, "--format", "json"], ct);
            (fetched, size) = ReadStats(stats.StandardOutput);
        });
        return result with { BytesFetched = fetched, ImageBytes = size };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal static (long? Fetched, long? Size) ReadStats(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return (Find(doc.RootElement, FetchedFields), Find(doc.RootElement, SizeFields));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static long? Find(JsonElement element, string[] names)
    {
        if (element.ValueKind == JsonValueKind.Array && element.GetArrayLength() > 0)
        {
            return Find(element[0], names);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (names.Contains(property.Name, StringComparer.OrdinalIgnoreCase) && property.Value.TryGetInt64(out var value))
            {
                return value;
            }
        }

        foreach (var property in element.EnumerateObject())
        {
            if (Find(property.Value, names) is { } nested)
            {
                return nested;
            }
        }

        return null;
    }
}
