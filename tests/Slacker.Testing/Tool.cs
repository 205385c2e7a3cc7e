using System.Diagnostics;

namespace Slacker.Testing;

/// <summary>Runs an external tool (skopeo, docker, podman, mkfs, apt-get) to its end, at most three minutes.</summary>
public static class Tool
{
    /// <summary>Runs the tool and returns its stdout; a failure throws with its output.</summary>
    public static async Task<string> RunAsync(string tool, params string[] arguments) => (await TryRunAsync(tool, arguments).ConfigureAwait(false)).Output;

    /// <summary><see cref="RunAsync"/> for synchronous callers (safe: nothing here needs the caller's context).</summary>
    public static string Run(string tool, params string[] arguments) => RunAsync(tool, arguments).GetAwaiter().GetResult();

    /// <summary>Runs the tool; a failure throws with its output.</summary>
    public static async Task<(int ExitCode, string Output)> TryRunAsync(string tool, params string[] arguments)
    {
        var (code, stdout, stderr) = await RunRawAsync(tool, null, arguments).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({code}): {stderr}{stdout}");
        }

        return (code, stdout);
    }

    /// <summary>Runs the tool with extra environment variables; its exit code is the caller's to judge.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunRawAsync(string tool, IReadOnlyDictionary<string, string>? environment, params string[] arguments) =>
        RunInAsync(null, tool, environment, arguments);

    /// <summary>Runs the tool in <paramref name="workingDirectory"/>; its exit code is the caller's to judge.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunInAsync(
        string? workingDirectory, string tool, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish in 3 minutes.");
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
