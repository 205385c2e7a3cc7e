using Slacker.Bench.Processes;
using Slacker.Native.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Docker Engine with overlay2 and the distribution registry on loopback. The image reaches the daemon with
/// `skopeo copy oci:... docker-daemon:...` (the "build"); push and pull are `docker push` / `docker pull`.
/// Between cycles: containers and local images are removed and the registry restarted with empty storage.
/// </summary>
public sealed class DockerDriver(string workDir, DistributionRegistry registry, string dockerClient) : IContainerCliSystem
{
    private DockerEngine? _engine;

    public string Name => "docker";

    public ContainerCli Cli => _engine?.Cli ?? throw new InvalidOperationException("docker driver used before StartAsync.");

    public async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _engine = await DockerEngine.StartAsync(dockerClient, workDir, cancellationToken);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken) =>
        $"{await _engine!.VersionAsync(cancellationToken)}; {await registry.VersionAsync(cancellationToken)}; {(await ProcessRunner.RunAsync("skopeo", ["--version"], cancellationToken: cancellationToken)).StandardOutput.Trim()}";

    public string Reference(BenchImage image) => $"{registry.Address}/{image.Repository}:latest";

    public async Task CleanAsync(BenchImage image, CancellationToken cancellationToken)
    {
        // Every bench image goes, not just this one: a base layer kept by the previous image would make
        // this pull skip it ("Already exists") and flatter docker.
        await RemoveContainersAsync(cancellationToken);
        await RemoveBenchImagesAsync(cancellationToken);
        await registry.ResetAsync(cancellationToken);
    }

    public async Task PrepareAsync(BenchImage image, CancellationToken cancellationToken)
    {
        var args = new List<string> { "copy", "--quiet" };
        if (_engine!.Host is { } host)
        {
            args.AddRange(["--dest-daemon-host", host]);
        }

        args.AddRange([image.Layout.Reference, "docker-daemon:" + Reference(image)]);
        (await ProcessRunner.RunAsync("skopeo", args, new ProcessOptions { Timeout = TimeSpan.FromMinutes(30) }, cancellationToken))
            .EnsureSuccess($"loading {image.Name} into docker");
    }

    public Task PushAsync(BenchImage image, CancellationToken cancellationToken) =>
        Cli.MustAsync($"docker push of {image.Name}", ["push", Reference(image)], cancellationToken);

    public Task ForgetLocalAsync(BenchImage image, CancellationToken cancellationToken) =>
        Cli.MustAsync($"docker rmi of {image.Name}", ["rmi", Reference(image)], cancellationToken);

    public Task PullAsync(BenchImage image, CancellationToken cancellationToken) =>
        Cli.MustAsync($"docker pull of {image.Name}", ["pull", Reference(image)], cancellationToken);

    public Task<RunResult> RunAsync(BenchImage image, RunRequest request, CancellationToken cancellationToken) =>
        HelloJob.RunAsync(Cli, Reference(image), request, IsRunningAsync, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null)
        {
            if (!_engine.Owned)
            {
                // On a shared daemon, take away only what the bench made.
                await RemoveContainersAsync(CancellationToken.None);
                await RemoveBenchImagesAsync(CancellationToken.None);
            }

            await _engine.DisposeAsync();
            _engine = null;
        }
    }

    private async Task<bool> IsRunningAsync(string container, CancellationToken cancellationToken)
    {
        var result = await Cli.RunAsync(["inspect", "--format", "{{.State.Running}}", container], cancellationToken);
        return result.Succeeded && result.StandardOutput.Trim() == "true";
    }

    private async Task RemoveBenchImagesAsync(CancellationToken cancellationToken)
    {
        var images = await Cli.RunAsync(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", $"reference={registry.Address}/hellobench/*"], cancellationToken);
        var references = images.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (references.Length > 0)
        {
            await Cli.MustAsync("removing the bench's docker images", ["rmi", "-f", .. references], cancellationToken);
        }
    }

    private async Task RemoveContainersAsync(CancellationToken cancellationToken)
    {
        var ids = await Cli.RunAsync(["ps", "-aq", "--filter", "name=^hb-"], cancellationToken);
        var list = ids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (list.Length > 0)
        {
            await Cli.RunAsync(["rm", "-f", .. list], cancellationToken);
        }
    }
}
