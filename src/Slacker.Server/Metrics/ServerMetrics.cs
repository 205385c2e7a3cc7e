using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Slacker.Server.Metrics;

/// <summary>
/// The server's counters and request-latency histograms, exposed at GET /metrics in Prometheus text format.
/// Counters are plain longs bumped with Interlocked; a histogram per (method, route) is created once and then
/// only read from a concurrent dictionary.
/// </summary>
public sealed class ServerMetrics
{
    private readonly ConcurrentDictionary<(string Method, string Route), LatencyHistogram> _latency = new();
    private long _chunksServed;
    private long _chunkBytesServed;
    private long _chunksUploaded;
    private long _chunkBytesUploaded;

    public void ChunkServed(long bytes)
    {
        Interlocked.Increment(ref _chunksServed);
        Interlocked.Add(ref _chunkBytesServed, bytes);
    }

    public void ChunkUploaded(long bytes)
    {
        Interlocked.Increment(ref _chunksUploaded);
        Interlocked.Add(ref _chunkBytesUploaded, bytes);
    }

    public void ObserveRequest(string method, string route, double seconds) =>
        _latency.GetOrAdd((method, route), static _ => new LatencyHistogram()).Observe(seconds);

    public string Render()
    {
        var text = new StringBuilder();
        Counter(text, "slacker_chunks_served_total", "Chunks sent to clients (single and batch GETs).", Volatile.Read(ref _chunksServed));
        Counter(text, "slacker_chunk_bytes_served_total", "Chunk bytes sent to clients.", Volatile.Read(ref _chunkBytesServed));
        Counter(text, "slacker_chunks_uploaded_total", "Chunks newly stored by PUT.", Volatile.Read(ref _chunksUploaded));
        Counter(text, "slacker_chunk_bytes_uploaded_total", "Chunk bytes newly stored by PUT.", Volatile.Read(ref _chunkBytesUploaded));
        const string name = "slacker_http_request_duration_seconds";
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} Time to answer a request, by method and route.\n# TYPE {name} histogram\n");
        foreach (var ((method, route), histogram) in _latency.OrderBy(e => e.Key.Route, StringComparer.Ordinal).ThenBy(e => e.Key.Method, StringComparer.Ordinal))
        {
            histogram.WriteTo(text, name, $"method=\"{method}\",route=\"{Escape(route)}\"");
        }

        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
