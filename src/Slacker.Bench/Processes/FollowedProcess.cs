using System.Diagnostics;
using System.Text;
using Slacker.Native.Processes;

namespace Slacker.Bench.Processes;

/// <summary>A child whose merged stdout/stderr is watched line by line (`logs -f`) until a marker shows up.</summary>
public sealed class FollowedProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _marker = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _pumps;
    private string? _wanted;

    private FollowedProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError));
        _ = _pumps.ContinueWith(
            _ => _marker.TrySetException(new InvalidOperationException($"the log ended before the marker appeared:\n{Output}")),
            TaskScheduler.Default);
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static FollowedProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var psi = ProcessRunner.StartInfo(fileName, arguments, environment);

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {fileName}.");
        process.StandardInput.Close();
        return new FollowedProcess(process);
    }

    /// <summary>Completes when a line containing <paramref name="marker"/> arrives; fails if the stream ends first.</summary>
    public Task<string> WaitForAsync(string marker, CancellationToken cancellationToken)
    {
        lock (_output)
        {
            _wanted = marker;
            foreach (var line in _output.ToString().Split('\n'))
            {
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    _marker.TrySetResult(line);
                }
            }
        }

        return _marker.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        ProcessRunner.Kill(_process);
        _process.Dispose();
    }

    private async Task Pump(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                _output.Append(line).Append('\n');
                if (_wanted is not null && line.Contains(_wanted, StringComparison.Ordinal))
                {
                    _marker.TrySetResult(line);
                }
            }
        }
    }
}
