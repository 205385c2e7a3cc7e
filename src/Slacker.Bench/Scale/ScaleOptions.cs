namespace Slacker.Bench.Scale;

/// <summary>Everything one `slacker bench --scale` invocation was asked to do.</summary>
public sealed record ScaleOptions
{
    /// <summary>The corpus image every node starts (one image: the point is many nodes, not many images).</summary>
    public string Image { get; init; } = "python";

    /// <summary>How many nodes start the image at once, one wave per count.</summary>
    public IReadOnlyList<int> NodeCounts { get; init; } = [1, 2, 4, 8];

    /// <summary>How many servers the nodes spread over (node i talks to server i mod count).</summary>
    public IReadOnlyList<int> ServerCounts { get; init; } = [1, 2];

    /// <summary>Waves per (servers, nodes) configuration, each on freshly started nodes with empty caches.</summary>
    public int Reps { get; init; } = 3;

    public string? CorpusPath { get; init; }

    public required string OutputDirectory { get; init; }

    public required string CacheDirectory { get; init; }

    public required string WorkDirectory { get; init; }

    public required string SlackerCli { get; init; }
}
