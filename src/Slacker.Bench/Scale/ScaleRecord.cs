using System.Text.Json.Serialization;

namespace Slacker.Bench.Scale;

/// <summary>
/// One line of scale.jsonl. Kind "start": one node's container start in a wave (Seconds, BytesFetched, BytesRead,
/// PullSeconds); kind "wave": what the servers sent during the wave (ServerBytesOut, per server in
/// ServerBytesOutBy); kind "run": facts about the whole run (Message); kind "failure": a wave that failed (Message).
/// Waves with Warmup set only fill the servers' caches and are left out of every figure.
/// </summary>
public sealed record ScaleRecord
{
    public required string Kind { get; init; }

    public int? Servers { get; init; }

    public int? Nodes { get; init; }

    public int? Rep { get; init; }

    public bool? Warmup { get; init; }

    public int? Node { get; init; }

    /// <summary>The server (index) the node talked to.</summary>
    public int? Server { get; init; }

    public double? Seconds { get; init; }

    public double? PullSeconds { get; init; }

    public long? BytesFetched { get; init; }

    public long? BytesRead { get; init; }

    public long? ServerBytesOut { get; init; }

    public IReadOnlyList<long>? ServerBytesOutBy { get; init; }

    public string? Image { get; init; }

    public string? Message { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScaleRecord))]
internal sealed partial class ScaleJsonContext : JsonSerializerContext;
