using Slacker.Bench.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Podman (rootful, overlay) with storage of its own under the work dir, against the same distribution
/// registry (--tls-verify=false). Between cycles: containers and images are removed, the registry emptied.
/// </summary>
public sealed class PodmanDriver(string workDir, DistributionRegistry registry) : IContainerCliSystem
{
    private readonly string _dir = Path.Combine(workDir, "podman");
    private ContainerCli? _cli;
    private readonly Dictionary<string, string> _loadedIds = [];

    public string Name => "podman";

    public ContainerCli Cli => _cli ?? throw new InvalidOperationException("podman driver used before StartAsync.");

    public async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_dir);

        // Podman's default nofile ulimit (1048576) is above the hard limit a sandboxed bench may have, and the
        // crun in Debian 12 refuses hybrid cgroup hosts, while runc runs there (docker uses runc too).
        var config = Path.Combine(_dir, "containers.conf");
        await File.WriteAllTextAsync(config, "[containers]\ndefault_ulimits = []\n", cancellationToken);
        _cli = new ContainerCli("podman",
        [
            "--root", Path.Combine(_dir, "root"),
            "--runroot", Path.Combine(_dir, "runroot"),
            "--tmpdir", Path.Combine(_dir, "tmp"),
            "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            "--runtime", "runc",
        ],
        new Dictionary<string, string> { ["CONTAINERS_CONF"] = config });
        try
        {
            var info = await Cli.RunAsync(["info", "--format", "{{.Store.GraphDriverName}}"], cancellationToken, timeout: TimeSpan.FromMinutes(1));
            return info.Succeeded ? null : $"podman cannot run here: `podman info` failed: {info.StandardError.Trim()}";
        }
        catch (InvalidOperationException ex)
        {
            return $"podman cannot run here: {ex.Message}";
        }
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var version = await Cli.RunAsync(["version", "--format", "{{.Client.Version}}"], cancellationToken);
        var runtime = await Cli.RunAsync(["info", "--format", "{{.Host.OCIRuntime.Name}}"], cancellationToken);
        return $"podman {version.StandardOutput.Trim()} (overlay, {runtime.StandardOutput.Trim()}); {await registry.VersionAsync(cancellationToken)}";
    }

    public string Reference(BenchImage image) => $"{registry.Address}/{image.Repository}:latest";

    public async Task CleanAsync(BenchImage image, CancellationToken cancellationToken)
    {
        await Cli.RunAsync(["rm", "-a", "-f"], cancellationToken);
        await Cli.RunAsync(["rmi", "-a", "-f"], cancellationToken);
        _loadedIds.Clear();
        await registry.ResetAsync(cancellationToken);
    }

    public async Task PrepareAsync(BenchImage image, CancellationToken cancellationToken)
    {
        var pulled = await Cli.MustAsync($"loading {image.Name} into podman", ["pull", "-q", image.Layout.Reference], cancellationToken);
        var id = pulled.StandardOutput.Trim().Split('\n')[^1];
        await Cli.MustAsync($"tagging {image.Name} in podman", ["tag", id, Reference(image)], cancellationToken);
        _loadedIds[image.Name] = id;
    }

    public Task PushAsync(BenchImage image, CancellationToken cancellationToken) =>
        Cli.MustAsync($"podman push of {image.Name}", ["push", "--tls-verify=false", Reference(image)], cancellationToken);

    public Task ForgetLocalAsync(BenchImage image, CancellationToken cancellationToken) =>
        Cli.MustAsync($"podman rmi of {image.Name}", ["rmi", "-f", _loadedIds.GetValueOrDefault(image.Name, Reference(image))], cancellationToken);

    public Task PullAsync(BenchImage image, CancellationToken cancellationToken) =>
        Cli.MustAsync($"podman pull of {image.Name}", ["pull", "--tls-verify=false", Reference(image)], cancellationToken);

    public Task<RunResult> RunAsync(BenchImage image, RunRequest request, CancellationToken cancellationToken) =>
        HelloJob.RunAsync(Cli, Reference(image), request, IsRunningAsync, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_cli is not null)
        {
            await Cli.RunAsync(["rm", "-a", "-f"], CancellationToken.None);
            await Cli.RunAsync(["rmi", "-a", "-f"], CancellationToken.None);
            _cli = null;
        }

        MountCleanup.UnmountBelow(_dir);
        if (Directory.Exists(_dir))
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
                // Something still mounted that would not detach; the bench's later runs use a new work dir.
            }
        }
    }

    private async Task<bool> IsRunningAsync(string container, CancellationToken cancellationToken)
    {
        var result = await Cli.RunAsync(["inspect", "--format", "{{.State.Running}}", container], cancellationToken);
        return result.Succeeded && result.StandardOutput.Trim() == "true";
    }
}
