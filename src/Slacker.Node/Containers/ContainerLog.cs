using System.Globalization;
using System.Text;

namespace Slacker.Node.Containers;

/// <summary>
/// A container's output log in the Kubernetes CRI format: one line per output line,
/// "&lt;RFC3339Nano time&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;text&gt;". P marks a piece of a line that was
/// cut (very long line, or output that ended without a newline), F the piece that ends it. A plain text
/// format that tools already read, that survives a crash mid-line, and that `logs -f` can tail.
/// </summary>
public sealed class ContainerLogWriter : IDisposable
{
    private const int MaxLine = 16 * 1024;
    private readonly FileStream _file;
    private readonly Lock _gate = new();
    private readonly MemoryStream[] _pending = [new(), new()];

    public ContainerLogWriter(string path)
    {
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
    }

    public void Write(StdioStream stream, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            var pending = _pending[(int)stream - 1];
            while (!data.IsEmpty)
            {
                var newline = data.IndexOf((byte)'\n');
                var take = newline < 0 ? data.Length : newline;
                var room = MaxLine - (int)pending.Length;
                if (take > room)
                {
                    pending.Write(data[..room]);
                    Emit(stream, pending, partial: true);
                    data = data[room..];
                    continue;
                }

                pending.Write(data[..take]);
                if (newline < 0)
                {
                    break;
                }

                Emit(stream, pending, partial: false);
                data = data[(newline + 1)..];
            }
        }
    }

    /// <summary>Writes what is left of unterminated lines (the process ended without a final newline).</summary>
    public void Complete()
    {
        lock (_gate)
        {
            for (var i = 0; i < _pending.Length; i++)
            {
                if (_pending[i].Length > 0)
                {
                    Emit((StdioStream)(i + 1), _pending[i], partial: true);
                }
            }
        }
    }

    private void Emit(StdioStream stream, MemoryStream pending, bool partial)
    {
        var prefix = string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffffff00Z} {(stream == StdioStream.Stdout ? "stdout" : "stderr")} {(partial ? 'P' : 'F')} ");
        var line = new byte[Encoding.UTF8.GetByteCount(prefix) + pending.Length + 1];
        var written = Encoding.UTF8.GetBytes(prefix, line);
        pending.GetBuffer().AsSpan(0, (int)pending.Length).CopyTo(line.AsSpan(written));
        line[^1] = (byte)'\n';

        // One write per line so that a reader tailing the file never sees half a record.
        _file.Write(line);
        _file.Flush();
        pending.SetLength(0);
    }

    public void Dispose()
    {
        Complete();
        _file.Dispose();
        foreach (var pending in _pending)
        {
            pending.Dispose();
        }
    }
}

/// <summary>One parsed record of a CRI log line.</summary>
public readonly record struct ContainerLogRecord(DateTimeOffset Time, StdioStream Stream, bool Partial, ReadOnlyMemory<byte> Text)
{
    public static bool TryParse(ReadOnlyMemory<byte> line, out ContainerLogRecord record)
    {
        record = default;
        var span = line.Span;
        var first = span.IndexOf((byte)' ');
        if (first < 0)
        {
            return false;
        }

        var rest = span[(first + 1)..];
        var second = rest.IndexOf((byte)' ');
        if (second < 0 || rest.Length < second + 3)
        {
            return false;
        }

        StdioStream stream = rest[..second].SequenceEqual("stdout"u8) ? StdioStream.Stdout
            : rest[..second].SequenceEqual("stderr"u8) ? StdioStream.Stderr : 0;
        // RFC3339Nano has 9 fractional digits; .NET keeps 7 (100 ns ticks), so the last two are dropped.
        var stamp = Encoding.ASCII.GetString(span[..first]);
        if (stamp.Length == 30 && stamp[^1] == 'Z')
        {
            stamp = string.Concat(stamp.AsSpan(0, 27), "Z");
        }

        if (stream == 0 || !DateTimeOffset.TryParse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }

        var partial = rest[second + 1] == (byte)'P';
        var textStart = first + 1 + second + 3;
        record = new ContainerLogRecord(time, stream, partial, line[textStart..]);
        return true;
    }
}

public enum StdioStream : byte
{
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
}
