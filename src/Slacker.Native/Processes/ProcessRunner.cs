using System.Diagnostics;
using System.Text;

namespace Slacker.Native.Processes;

/// <summary>
/// Runs a child process to completion, capturing its output: the one way the node, the image builder, the bench and
/// the tests run a tool. Only ever kills the process it started.
/// </summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, ProcessOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ProcessOptions();
        var psi = StartInfo(fileName, arguments, options.Environment, options.WorkingDirectory);
        var commandLine = Describe(fileName, psi.ArgumentList);
        using var process = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot start `{commandLine}`: {ex.Message}. Is {fileName} installed and on PATH?", ex);
        }

        var readOut = Pump(process.StandardOutput, stdout, "stdout", options.OnLine);
        var readErr = Pump(process.StandardError, stderr, "stderr", options.OnLine);
        using var timeout = options.Timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            if (options.Stdin is { } input)
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), linked.Token);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(linked.Token);
            await Task.WhenAll(readOut, readErr);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"`{commandLine}` did not finish within {options.Timeout}; it was killed.{ProcessFailedException.Tail("stderr", stderr.ToString())}");
            }

            throw;
        }
        catch (IOException) when (process.HasExited)
        {
            // The child exited before reading all of stdin (broken pipe); its exit code tells what happened.
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(readOut, readErr);
        }

        return new ProcessResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString(), stopwatch.Elapsed);
    }

    /// <summary>How every child starts: all three streams redirected, no shell.</summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        return psi;
    }

    /// <summary>Ends the process we started and everything it started (by PID, never by name).</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public static string Describe(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { fileName }.Concat(arguments).Select(a => a.Length == 0 || a.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or ';') ? "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : a));

    private static async Task Pump(StreamReader reader, StringBuilder sink, string stream, Action<string, string>? onLine)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (sink)
            {
                sink.Append(line).Append('\n');
            }

            onLine?.Invoke(stream, line);
        }
    }
}
