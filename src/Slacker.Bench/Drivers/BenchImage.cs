using Slacker.Bench.Corpus;
using Slacker.Bench.Oci;

namespace Slacker.Bench.Drivers;

/// <summary>A built corpus image as the drivers see it.</summary>
public sealed record BenchImage(CorpusEntry Entry, OciLayoutRef Layout)
{
    public string Name => Entry.Name;

    /// <summary>Repository path used in every registry and local store, e.g. hellobench/python.</summary>
    public string Repository => "hellobench/" + Entry.Name;
}

/// <summary>One "hello" job: what the container is asked to do and how the harness knows it is done.</summary>
public sealed record RunRequest
{
    public required CorpusEntry Entry { get; init; }

    /// <summary>Unique per run, so leftovers of a failed run never collide with the next one.</summary>
    public required string ContainerName { get; init; }

    /// <summary>The entry's mounts with sources replaced by per-run scratch copies (jobs write into /src).</summary>
    public required IReadOnlyList<MountSpec> Mounts { get; init; }
}

/// <summary>What one run measured: the wall clock from `run` to done, and what the system could tell about it.</summary>
public sealed record RunResult(TimeSpan Elapsed, string Output)
{
    /// <summary>Bytes the node fetched from the server while the container ran (slacker only).</summary>
    public long? BytesFetched { get; init; }

    /// <summary>Bytes the kernel read from the container's root volume while it ran (slacker only).</summary>
    public long? BytesRead { get; init; }

    /// <summary>Size of the image as the system stores it, if it says (slacker: the volume).</summary>
    public long? ImageBytes { get; init; }
}
