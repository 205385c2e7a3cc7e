using Slacker.Bench.Drivers;

namespace Slacker.Bench.Runner;

/// <summary>Everything one `slacker bench` invocation was asked to do.</summary>
public sealed record BenchOptions
{
    /// <summary>Corpus file; null means the checkout's bench/corpus.json, else the embedded default corpus.</summary>
    public string? CorpusPath { get; init; }

    public IReadOnlyList<string> Systems { get; init; } = ["slacker", "docker", "podman"];

    public int Reps { get; init; } = 3;

    /// <summary>Images to run; empty means every image in the corpus.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    public required string OutputDirectory { get; init; }

    public required string CacheDirectory { get; init; }

    /// <summary>Scratch space for daemons (dockerd data-root, registry storage, podman storage).</summary>
    public required string WorkDirectory { get; init; }

    public bool Smoke { get; init; }

    public bool BuildOnly { get; init; }

    /// <summary>After the cycles, run the long-running parity load on images that define one.</summary>
    public bool Parity { get; init; }

    public int ParitySeconds { get; init; } = 20;

    /// <summary>The slacker CLI the slacker driver runs (a native binary, or slacker.dll run through dotnet).</summary>
    public string? SlackerCli { get; init; } = SlackerExecutable.Default();
}
