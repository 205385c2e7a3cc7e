namespace Slacker.Node.Containers;

/// <summary>
/// Everything the node knows about one container, persisted as containers/&lt;id&gt;/state.json after each
/// change so that a restarted node can tell the truth about it.
/// </summary>
public sealed class ContainerRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required ContainerConfig Config { get; init; }

    public required string Runtime { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The image reference as resolved when the container was created (name:tag and manifest digest).</summary>
    public string? ImageId { get; set; }

    /// <summary>The snapshot the container's root is a clone of.</summary>
    public string? ImageSnapshot { get; set; }

    /// <summary>The container's own volume on the server (a clone of ImageSnapshot).</summary>
    public string? VolumeId { get; set; }

    /// <summary>Where the root file system is mounted while the container runs.</summary>
    public string? RootFs { get; set; }

    public string Status { get; set; } = ContainerStatus.Created;

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Null until the container ended, and when it ended while the node was down without leaving a code.</summary>
    public int? ExitCode { get; set; }

    /// <summary>Why the container ended other than by itself (killed by recovery, runtime failure...).</summary>
    public string? Error { get; set; }

    public int? Pid { get; set; }

    public IReadOnlyList<string> Args { get; set; } = [];

    public string ShortId => Id[..12];
}

public static class ContainerStatus
{
    public const string Created = "created";
    public const string Running = "running";
    public const string Exited = "exited";
}
