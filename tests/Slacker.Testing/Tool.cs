using Slacker.Native.Processes;

namespace Slacker.Testing;

/// <summary>
/// Runs an external tool (skopeo, docker, podman, mkfs, apt-get) to its end, at most three minutes, through
/// <see cref="ProcessRunner"/> (stdin closed; output captured line by line; on timeout the tool and its
/// children are killed).
/// </summary>
public static class Tool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

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
        var options = new ProcessOptions { WorkingDirectory = workingDirectory, Environment = environment, Timeout = Timeout };
        var result = await ProcessRunner.RunAsync(tool, arguments, options).ConfigureAwait(false);
        return (result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
