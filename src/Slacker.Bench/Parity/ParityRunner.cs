using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Slacker.Bench.Drivers;
using Slacker.Bench.Runner;

namespace Slacker.Bench.Parity;

/// <summary>
/// Long-running parity: once a container is up, does it serve as fast as docker's? Per system: pull the
/// image as in a cycle, start the server (time to first answered request), run the client once to warm
/// up, then <c>reps</c> more times to measure throughput (the report takes the median, so one noisy run on
/// a shared machine does not decide). Client and server are containers of the same image.
/// </summary>
public static class ParityRunner
{
    public static async Task RunAsync(IContainerCliSystem system, BenchImage image, int seconds, int reps, RecordLog records, TextWriter log, CancellationToken cancellationToken)
    {
        var entry = image.Entry;
        var spec = entry.Parity ?? throw new ArgumentException($"{image.Name} has no parity section.", nameof(image));
        var server = $"hb-parity-{image.Name}-{Guid.NewGuid().ToString("N")[..8]}";
        var reference = system.Reference(image);
        var step = "pull";
        try
        {
            await system.CleanAsync(image, cancellationToken);
            await system.PrepareAsync(image, cancellationToken);
            await system.PushAsync(image, cancellationToken);
            await system.ForgetLocalAsync(image, cancellationToken);
            await system.PullAsync(image, cancellationToken);

            step = "first-answer";
            var request = new RunRequest { Entry = entry, ContainerName = server, Mounts = [] };
            var stopwatch = Stopwatch.StartNew();
            await system.Cli.MustAsync($"{image.Name}: starting the parity server", HelloJob.RunArguments(request, detach: true, interactive: false, reference, entry.Command), cancellationToken);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(entry.Timeout);
                await FirstAnswerProbe.WaitAsync(spec.Probe, entry.Port!.Value, entry.HttpPath, timeout.Token);
            }

            stopwatch.Stop();
            records.Write(new BenchRecord { Kind = "parity", System = system.Name, Image = image.Name, Op = "first-answer", Seconds = stopwatch.Elapsed.TotalSeconds, Time = DateTimeOffset.UtcNow });

            if (spec.Prepare is { } prepare)
            {
                step = "load-prepare";
                await ClientAsync(system, reference, prepare, seconds, cancellationToken);
            }

            step = "warm-up";
            await ClientAsync(system, reference, spec.Client, Math.Max(2, seconds / 4), cancellationToken);
            step = "throughput";
            for (var rep = 1; rep <= Math.Max(1, reps); rep++)
            {
                var output = await ClientAsync(system, reference, spec.Client, seconds, cancellationToken);
                var match = Regex.Match(output, spec.Metric, RegexOptions.None, TimeSpan.FromSeconds(1));
                if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    throw new InvalidOperationException($"{image.Name}: the client output has no match for parity.metric '{spec.Metric}':\n{string.Join('\n', output.Split('\n').TakeLast(10))}");
                }

                records.Write(new BenchRecord { Kind = "parity", System = system.Name, Image = image.Name, Rep = rep, Op = "throughput", Value = value, Unit = spec.Unit, Time = DateTimeOffset.UtcNow });
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[parity] {system.Name,-7} {image.Name,-9}: first answer {stopwatch.Elapsed.TotalSeconds:0.000}s, rep {rep}: {value:0.##} {spec.Unit}"));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.WriteLine($"[parity] {system.Name} {image.Name}: {step} failed: {ex.Message}");
            records.Write(new BenchRecord { Kind = "failure", System = system.Name, Image = image.Name, Op = "parity-" + step, Message = ex.Message, Time = DateTimeOffset.UtcNow });
        }
        finally
        {
            await system.Cli.RunAsync(["rm", "-f", server], CancellationToken.None, timeout: TimeSpan.FromMinutes(2));
        }
    }

    private static async Task<string> ClientAsync(IContainerCliSystem system, string reference, IReadOnlyList<string> client, int seconds, CancellationToken cancellationToken)
    {
        var args = new List<string> { "run", "--rm", "--network", "host", reference };
        args.AddRange(client.Select(a => a.Replace("{seconds}", seconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)));
        var result = await system.Cli.RunAsync(args, cancellationToken, timeout: TimeSpan.FromSeconds((seconds * 3) + 300));
        result.EnsureSuccess("the parity load client failed");
        return result.StandardOutput + result.StandardError;
    }
}
