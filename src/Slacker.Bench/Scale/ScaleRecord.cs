using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slacker.Bench.Scale;

/// <summary>
/// One line of scale.jsonl. Kind "start": one node's container start in a wave (Seconds, BytesFetched, BytesRead,
/// PullSeconds); kind "wave": what the servers sent during the wave (ServerBytesOut, per server in
/// ServerBytesOutBy, and the CPU the machine and the servers spent);
/// kind "run": facts about the whole run (Message); kind "failure": a wave that failed (Message).
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

    /// <summary>Seconds from the first `run` of the wave until every node had its job done, stats read and container removed.</summary>
    public double? WaveSeconds { get; init; }

    /// <summary>CPU seconds the whole machine was busy over <see cref="WaveSeconds"/> (every process: nodes, crun, jobs, servers, PostgreSQL, Ceph).</summary>
    public double? MachineCpuSeconds { get; init; }

    /// <summary>CPU seconds the slacker servers used over <see cref="WaveSeconds"/>.</summary>
    public double? ServerCpuSeconds { get; init; }

    public IReadOnlyList<long>? ServerBytesOutBy { get; init; }

    public string? Image { get; init; }

    public string? Message { get; init; }

    /// <summary>Every record of a scale.jsonl.</summary>
    public static List<ScaleRecord> ReadAll(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize(l, ScaleJsonContext.Default.ScaleRecord) ?? throw new InvalidDataException($"{path}: 'null' is not a scale record."))
            .ToList();

    public string ToJson() => JsonSerializer.Serialize(this, ScaleJsonContext.Default.ScaleRecord);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScaleRecord))]
internal sealed partial class ScaleJsonContext : JsonSerializerContext;
