using System.Diagnostics;
using Slacker.Bench.Drivers;

namespace Slacker.Testing;

/// <summary>The real `slacker` executable, as a user runs it: one process per command.</summary>
public static partial class SlackerProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>Stdout then stderr, for assertions that only look for a message.</summary>
        public string Output => Stdout + Stderr;

        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>
    /// SLACKER_CLI when set (CI points it at the published native binary, which is what users run), else the
    /// managed build (<see cref="Artifacts.CliDll"/>), run through dotnet.
    /// </summary>
    public static string Executable => Environment.GetEnvironmentVariable(SlackerExecutable.EnvironmentVariable) is { Length: > 0 } configured
        ? configured
        : Artifacts.CliDll;

    /// <summary>How to start `slacker ARGS`, as <paramref name="user"/> (through setpriv) when one is given.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? user = null)
    {
        var executable = Executable;
        var managed = executable.EndsWith(".dll", StringComparison.Ordinal);
        var program = managed ? Artifacts.DotNet : executable;
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
            info.ArgumentList.Add(executable);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return info;
    }

    /// <summary>How to start `slacker ARGS` inside network namespace <paramref name="namespacePath"/> (nsenter changes only the network).</summary>
    public static ProcessStartInfo StartInfoIn(string namespacePath, IEnumerable<string> args)
    {
        var inner = StartInfo(args);
        var info = new ProcessStartInfo("nsenter")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--net={namespacePath}", "--", inner.FileName }.Concat(inner.ArgumentList))
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (key, value) in inner.Environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    /// <summary>Runs one CLI command to its end (at most three minutes), feeding it <paramref name="stdin"/>.</summary>
    public static Task<Result> RunAsync(IEnumerable<string> args, string? stdin = null, string? user = null, TimeSpan? timeout = null) =>
        RunAsync(StartInfo(args, user), args, stdin, timeout);

    /// <summary>Runs one CLI command inside a network namespace (a simulated host of a cluster test).</summary>
    public static Task<Result> RunInAsync(string namespacePath, IEnumerable<string> args, TimeSpan? timeout = null) =>
        RunAsync(StartInfoIn(namespacePath, args), args, null, timeout);

    private static async Task<Result> RunAsync(ProcessStartInfo info, IEnumerable<string> args, string? stdin, TimeSpan? timeout)
    {
        using var process = Process.Start(info)!;
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
}
