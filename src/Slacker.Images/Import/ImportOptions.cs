using Slacker.Core.Model;
using Slacker.Images.Layers;

namespace Slacker.Images.Import;

public sealed record ImportOptions
{
    public LayerLimits Limits { get; init; } = LayerLimits.Default;

    /// <summary>Free space the image's file system gets beyond its content; null: max(256 MiB, a quarter of the content).</summary>
    public long? FreeSpaceBytes { get; init; }

    public int ChunkSize { get; init; } = ChunkGeometry.DefaultChunkSize;

    /// <summary>Where the raw file system is built (it is sparse: only written blocks take space). Default /var/tmp.</summary>
    public string WorkDirectory { get; init; } = Environment.GetEnvironmentVariable("SLACKER_TMPDIR") is { Length: > 0 } dir ? dir : "/var/tmp";

    public IProgress<ImportProgress>? Progress { get; init; }
}

public enum ImportStage
{
    Resolving,
    Verifying,
    Formatting,
    Applying,
    Sealing,
    Uploading,
    Publishing,
    Done,
}

/// <summary>One progress report: the stage, the layer (1-based) where it applies, and a line for the log.</summary>
public sealed record ImportProgress(ImportStage Stage, int Layer, int Layers, string Message);
