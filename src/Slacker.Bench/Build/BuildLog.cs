namespace Slacker.Bench.Build;

/// <summary>
/// One long build step's full output goes to a log file in the cache; only phase lines reach the
/// progress callback, so the console says what is happening without drowning in apt output.
/// </summary>
internal sealed class BuildLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Queue<string> _tail = new();
    private readonly Action<string>? _progress;
    private readonly string _label;

    public BuildLog(string cacheDir, string name, string label, Action<string>? progress)
    {
        var dir = System.IO.Path.Combine(cacheDir, "logs");
        Directory.CreateDirectory(dir);
        LogPath = System.IO.Path.Combine(dir, name + ".log");
        _writer = new StreamWriter(LogPath, append: false) { AutoFlush = true };
        _label = label;
        _progress = progress;
    }

    public string LogPath { get; }

    public void Line(string stream, string line)
    {
        lock (_writer)
        {
            _writer.WriteLine(line);
            _tail.Enqueue(line);
            if (_tail.Count > 25)
            {
                _tail.Dequeue();
            }
        }

        if (line.StartsWith("@@ ", StringComparison.Ordinal))
        {
            _progress?.Invoke($"{_label}: {line[3..]}");
        }
        else if (line.StartsWith("I: ", StringComparison.Ordinal))
        {
            _progress?.Invoke($"{_label}: mmdebstrap {line[3..]}");
        }
    }

    public Exception Failure(string what, int exitCode)
    {
        string tail;
        lock (_writer)
        {
            tail = string.Join('\n', _tail);
        }

        return new InvalidOperationException($"{what} failed (exit {exitCode}); full log: {LogPath}\n--- last lines ---\n{tail}");
    }

    public void Dispose() => _writer.Dispose();
}
