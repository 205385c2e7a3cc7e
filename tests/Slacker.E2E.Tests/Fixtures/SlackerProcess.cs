using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Slacker.E2E.Tests.Fixtures;

/// <summary>The real `slacker` executable, as a user runs it: one process per command.</summary>
public static partial class SlackerProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>
    /// SLACKER_CLI when set (CI points it at the published native binary, which is what users run), else the
    /// managed build that the project reference copies next to the tests, run through dotnet.
    /// </summary>
    public static string Executable => Environment.GetEnvironmentVariable("SLACKER_CLI") is { Length: > 0 } configured
        ? configured
        : Path.Join(AppContext.BaseDirectory, "slacker.dll");

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? user = null)
    {
        var managed = Executable.EndsWith(".dll", StringComparison.Ordinal);
        var program = managed ? "dotnet" : Executable;
        var info = new ProcessStartInfo(user is null ? program : "setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (user is not null)
        {
            foreach (var a in new[] { "--reuid", user, "--regid", "nogroup", "--clear-groups", program })
            {
                info.ArgumentList.Add(a);
            }
        }

        if (managed)
        {
            info.ArgumentList.Add(Executable);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return info;
    }

    /// <summary>Runs one CLI command to its end (at most three minutes), feeding it <paramref name="stdin"/>.</summary>
    public static async Task<Result> RunAsync(IEnumerable<string> args, string? stdin = null, string? user = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(args, user))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"slacker {string.Join(' ', args)} did not finish: {await stdout} {await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A long-running slacker process (server, node, logs -f) whose output is collected as it comes.</summary>
    public sealed class Background : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly Lock _gate = new();

        public Process Process { get; }

        public Background(IEnumerable<string> args)
        {
            Process = Process.Start(StartInfo(args))!;
            Process.StandardInput.Close();
            Process.OutputDataReceived += (_, e) => Append(e.Data);
            Process.ErrorDataReceived += (_, e) => Append(e.Data);
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                _output.AppendLine(line);
            }
        }

        public string Output
        {
            get
            {
                lock (_gate)
                {
                    return _output.ToString();
                }
            }
        }

        /// <summary>Waits until the output contains <paramref name="text"/>; fails if the process ends first.</summary>
        public async Task WaitForOutputAsync(string text, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                Assert.False(Process.HasExited, $"process ended before printing '{text}':\n{Output}");
                Assert.True(DateTime.UtcNow < deadline, $"no '{text}' within {timeout}:\n{Output}");
                await Task.Delay(50);
            }
        }

        public void Signal(int signal)
        {
            if (!Process.HasExited)
            {
                _ = Kill(Process.Id, signal);
            }
        }

        /// <summary>SIGTERM, and SIGKILL if it has not ended within <paramref name="grace"/>.</summary>
        public async Task StopAsync(TimeSpan grace)
        {
            Signal(15);
            using var cts = new CancellationTokenSource(grace);
            try
            {
                await Process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Process.Kill();
                Process.WaitForExit(TimeSpan.FromSeconds(30));
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                await StopAsync(TimeSpan.FromSeconds(30));
            }

            Process.Dispose();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
