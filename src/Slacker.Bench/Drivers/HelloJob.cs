using System.Diagnostics;
using Slacker.Bench.Corpus;
using Slacker.Native.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Runs one corpus image's hello job through a docker-compatible CLI and times it from `run` to done:
/// exit 0 (echo, arg, stdin), the marker line in the merged log (waitline), or the first HTTP answer (http).
/// The container is removed afterwards, outside the measured time.
/// </summary>
public static class HelloJob
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <param name="isRunning">Asks whether the container still runs, so a crashed server fails fast instead of at the timeout.</param>
    /// <param name="beforeRemove">Runs after the job is done and before the container is removed (slacker reads its stats there).</param>
    public static async Task<RunResult> RunAsync(
        ContainerCli cli,
        string image,
        RunRequest request,
        Func<string, CancellationToken, Task<bool>>? isRunning,
        CancellationToken cancellationToken,
        Func<CancellationToken, Task>? beforeRemove = null)
    {
        var entry = request.Entry;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(entry.Timeout);
        try
        {
            var result = entry.Mode switch
            {
                RunMode.Echo or RunMode.Arg => await ToExitAsync(cli, image, request, stdin: null, timeout.Token),
                RunMode.Stdin => await ToExitAsync(cli, image, request, entry.Stdin, timeout.Token),
                RunMode.WaitLine => await ToMarkerAsync(cli, image, request, timeout.Token),
                RunMode.Http => await ToHttpAnswerAsync(cli, image, request, isRunning, timeout.Token),
                _ => throw new ArgumentOutOfRangeException(nameof(request), entry.Mode, "unknown run mode"),
            };
            if (beforeRemove is not null)
            {
                await beforeRemove(cancellationToken);
            }

            return result;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{entry.Name}: the {entry.Mode} job was not done within {entry.Timeout.TotalSeconds:0} s (timeoutSeconds in the corpus).");
        }
        finally
        {
            // Untimed: leave nothing behind, whatever happened above.
            await cli.RunAsync(["rm", "-f", request.ContainerName], CancellationToken.None, timeout: TimeSpan.FromMinutes(2));
        }
    }

    public static List<string> RunArguments(RunRequest request, bool detach, bool interactive, string image, IReadOnlyList<string>? command)
    {
        var args = new List<string> { "run", "--name", request.ContainerName, "--network", "host" };
        if (detach)
        {
            args.Add("-d");
        }

        if (interactive)
        {
            args.Add("-i");
        }

        foreach (var (key, value) in request.Entry.Env)
        {
            args.Add("-e");
            args.Add($"{key}={value}");
        }

        foreach (var mount in request.Mounts)
        {
            args.Add("-v");
            args.Add($"{mount.Source}:{mount.Target}" + (mount.ReadOnly ? ":ro" : string.Empty));
        }

        args.Add(image);
        args.AddRange(command ?? []);
        return args;
    }

    private static async Task<RunResult> ToExitAsync(ContainerCli cli, string image, RunRequest request, string? stdin, CancellationToken cancellationToken)
    {
        var entry = request.Entry;
        var args = RunArguments(request, detach: false, interactive: stdin is not null, image, entry.Command);
        var stopwatch = Stopwatch.StartNew();
        var result = await cli.RunAsync(args, cancellationToken, stdin ?? string.Empty, entry.Timeout);
        stopwatch.Stop();
        result.EnsureSuccess($"{entry.Name}: the {entry.Mode} job failed");
        if (entry.Expect is { } expect && !result.StandardOutput.Contains(expect, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"{entry.Name}: the job exited 0 but its output lacks '{expect}' (the corpus 'expect').{ProcessFailedException.Tail("stdout", result.StandardOutput)}{ProcessFailedException.Tail("stderr", result.StandardError)}");
        }

        return new RunResult(stopwatch.Elapsed, result.StandardOutput);
    }

    private static async Task<RunResult> ToMarkerAsync(ContainerCli cli, string image, RunRequest request, CancellationToken cancellationToken)
    {
        var entry = request.Entry;
        var stopwatch = Stopwatch.StartNew();
        await cli.MustAsync($"{entry.Name}: starting the server container", RunArguments(request, detach: true, interactive: false, image, entry.Command), cancellationToken);
        using var logs = cli.Follow(["logs", "-f", request.ContainerName]);
        try
        {
            await logs.WaitForAsync(entry.Marker!, cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{entry.Name}: the container stopped before logging '{entry.Marker}'. {ex.Message}", ex);
        }

        stopwatch.Stop();
        await cli.RunAsync(["kill", request.ContainerName], CancellationToken.None, timeout: TimeSpan.FromMinutes(1));
        return new RunResult(stopwatch.Elapsed, logs.Output);
    }

    private static async Task<RunResult> ToHttpAnswerAsync(
        ContainerCli cli, string image, RunRequest request, Func<string, CancellationToken, Task<bool>>? isRunning, CancellationToken cancellationToken)
    {
        var entry = request.Entry;
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(5) };
        var url = new Uri($"http://127.0.0.1:{entry.Port}{entry.HttpPath}");
        var stopwatch = Stopwatch.StartNew();
        await cli.MustAsync($"{entry.Name}: starting the server container", RunArguments(request, detach: true, interactive: false, image, entry.Command), cancellationToken);
        var attempts = 0;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Accepted but no answer within the client timeout; keep trying.
            }

            if (++attempts % 100 == 0 && isRunning is not null && !await isRunning(request.ContainerName, cancellationToken))
            {
                var logs = await cli.RunAsync(["logs", request.ContainerName], CancellationToken.None, timeout: TimeSpan.FromMinutes(1));
                throw new InvalidOperationException(
                    $"{entry.Name}: the container exited before answering on {url}.{ProcessFailedException.Tail("logs", logs.StandardOutput + logs.StandardError)}");
            }

            await Task.Delay(PollInterval, cancellationToken);
        }

        stopwatch.Stop();
        await cli.RunAsync(["kill", request.ContainerName], CancellationToken.None, timeout: TimeSpan.FromMinutes(1));
        return new RunResult(stopwatch.Elapsed, $"answered {url} after {attempts} failed polls");
    }
}
