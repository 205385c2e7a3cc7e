using System.Text.Json.Serialization;

namespace Slacker.Bench.Runner;

/// <summary>
/// One line of results.jsonl. Kinds: "run" (what was run, where), "system" (status and versions),
/// "image" (sizes), "measure" (one timed op of one rep), "failure" (an op that did not complete),
/// "parity" (long-running parity: op first-answer with seconds, op throughput with value and unit).
/// </summary>
public sealed class BenchRecord
{
    public required string Kind { get; init; }

    public DateTimeOffset? Time { get; init; }

    public string? System { get; init; }

    public string? Image { get; init; }

    public string? Category { get; init; }

    public string? Mode { get; init; }

    public int? Rep { get; init; }

    /// <summary>push, pull, run (measure) or the step that failed (failure): build, clean, prepare, push, forget, pull, run.</summary>
    public string? Op { get; init; }

    public double? Seconds { get; init; }

    /// <summary>Parity throughput in <see cref="Unit"/>.</summary>
    public double? Value { get; init; }

    public string? Unit { get; init; }

    /// <summary>For run measures of slacker: bytes the node fetched from the server while the job ran.</summary>
    public long? BytesFetched { get; init; }

    /// <summary>For run measures of slacker: bytes the kernel read from the container's root volume while the job ran.</summary>
    public long? BytesRead { get; init; }

    /// <summary>Compressed size of the image's layers (what docker and podman move).</summary>
    public long? CompressedBytes { get; init; }

    /// <summary>Uncompressed size of the image's layers (about what a flattened file system holds).</summary>
    public long? UncompressedBytes { get; init; }

    /// <summary>The image size a system reports itself (slacker: the volume size), when it does.</summary>
    public long? SystemImageBytes { get; init; }

    public int? Layers { get; init; }

    public string? Reference { get; init; }

    /// <summary>ok or skipped (system records).</summary>
    public string? Status { get; init; }

    public string? Version { get; init; }

    public string? Message { get; init; }

    public string? Host { get; init; }

    public string? Kernel { get; init; }

    public int? Cpus { get; init; }

    public long? MemoryBytes { get; init; }

    public string? Command { get; init; }

    public string? Corpus { get; init; }

    public int? Reps { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BenchRecord))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
