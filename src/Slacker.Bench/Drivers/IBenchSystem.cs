namespace Slacker.Bench.Drivers;

/// <summary>
/// One system HelloBench compares. A cycle is Clean, Prepare (untimed), Push (timed), ForgetLocal (untimed),
/// Pull (timed), Run (timed by the driver, because "done" is a log line or an HTTP answer, not an exit).
/// </summary>
public interface IBenchSystem : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Starts what the system needs (daemons, registry). Returns null when ready, or why it cannot run here.</summary>
    Task<string?> StartAsync(CancellationToken cancellationToken);

    /// <summary>Versions of the parts that matter, for the report.</summary>
    Task<string> VersionAsync(CancellationToken cancellationToken);

    /// <summary>Removes containers, local images and registry content left from the previous cycle.</summary>
    Task CleanAsync(BenchImage image, CancellationToken cancellationToken);

    /// <summary>Puts the freshly built image on the developer's host, where push starts from.</summary>
    Task PrepareAsync(BenchImage image, CancellationToken cancellationToken);

    Task PushAsync(BenchImage image, CancellationToken cancellationToken);

    /// <summary>Makes the host "fresh" for the pull: local copies and caches go.</summary>
    Task ForgetLocalAsync(BenchImage image, CancellationToken cancellationToken);

    Task PullAsync(BenchImage image, CancellationToken cancellationToken);

    Task<RunResult> RunAsync(BenchImage image, RunRequest request, CancellationToken cancellationToken);
}

/// <summary>A system driven through a docker-compatible CLI: what the long-running parity needs to start servers and clients.</summary>
public interface IContainerCliSystem : IBenchSystem
{
    ContainerCli Cli { get; }

    /// <summary>How the system's CLI names the image after a pull.</summary>
    string Reference(BenchImage image);
}
