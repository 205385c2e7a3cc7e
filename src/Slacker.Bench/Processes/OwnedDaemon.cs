using System.Diagnostics;
using Slacker.Native;
using Slacker.Native.Processes;

namespace Slacker.Bench.Processes;

/// <summary>
/// A long-running process the bench started itself (dockerd, the registry, slacker server). Its output goes to
/// a log file; it is stopped by PID with SIGTERM, then SIGKILL if it does not exit in time. Never by name.
/// </summary>
public sealed class OwnedDaemon : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Task _pumps;

    private OwnedDaemon(Process process, StreamWriter log, string logPath, string description)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
        Description = description;
        _pumps = Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError));
    }

    public int Pid => _process.Id;

    public string LogPath { get; }

    public string Description { get; }

    public bool HasExited => _process.HasExited;

    public static OwnedDaemon Start(string fileName, IEnumerable<string> arguments, string logPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = ProcessRunner.StartInfo(fileName, arguments, environment);

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var description = ProcessRunner.Describe(fileName, psi.ArgumentList);
        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            log.Dispose();
            process.Dispose();
            throw new InvalidOperationException($"cannot start `{description}`: {ex.Message}. Is {fileName} installed?", ex);
        }

        process.StandardInput.Close();
        return new OwnedDaemon(process, log, logPath, description);
    }

    /// <summary>The last lines of the log, for error messages.</summary>
    public string LogTail(int lines = 15)
    {
        lock (_log)
        {
            _log.Flush();
        }

        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return string.Join('\n', reader.ReadToEnd().TrimEnd().Split('\n').TakeLast(lines));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    public async Task StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            _ = Libc.Kill(_process.Id, SigTerm);
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _ = Libc.Kill(_process.Id, SigKill);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        await _pumps;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private async Task Pump(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_log)
            {
                _log.WriteLine(line);
            }
        }
    }
}
