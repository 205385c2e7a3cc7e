namespace Slacker.Native.Processes;

public sealed record ProcessOptions
{
    /// <summary>Written to the child's stdin, which is then closed. Without it stdin is closed at once.</summary>
    public string? Stdin { get; init; }

    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>The child (and its descendants) is killed after this long and a TimeoutException thrown.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Sees every line of stdout and stderr as it arrives (stream name, line).</summary>
    public Action<string, string>? OnLine { get; init; }
}
