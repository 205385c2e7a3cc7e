using System.Diagnostics;

namespace Slacker.Images.Tests.Support;

/// <summary>Runs an external tool (skopeo, docker, podman, tar) and fails the test with its output if it fails.</summary>
public static class Tool
{
    public static async Task<string> RunAsync(string tool, params string[] arguments) => (await TryRunAsync(tool, arguments)).Output;

    public static async Task<(int ExitCode, string Output)> TryRunAsync(string tool, params string[] arguments)
    {
        var (code, stdout, stderr) = await RunRawAsync(tool, null, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({code}): {stderr}{stdout}");
        }

        return (code, stdout);
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunRawAsync(string tool, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish in 3 minutes.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
