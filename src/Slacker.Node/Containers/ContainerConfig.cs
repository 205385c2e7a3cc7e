namespace Slacker.Node.Containers;

/// <summary>
/// What the user asked for when creating a container (docker run's flags), as sent by the CLI and kept in the
/// container's state file. The image's own config fills in whatever this leaves out.
/// </summary>
public sealed record ContainerConfig(
    string Image,
    IReadOnlyList<string> Cmd,
    IReadOnlyList<string>? Entrypoint = null,
    IReadOnlyList<string>? Env = null,
    IReadOnlyList<string>? Binds = null,
    string? WorkingDir = null,
    string? User = null,
    string? Name = null,
    string Network = NetworkModes.None,
    bool Tty = false,
    bool OpenStdin = false,
    bool AutoRemove = false,
    uint ConsoleHeight = 0,
    uint ConsoleWidth = 0,
    string? Runtime = null);

public static class NetworkModes
{
    /// <summary>A new network namespace with only loopback (also the default: Slacker sets up no bridge).</summary>
    public const string None = "none";

    /// <summary>The host's network namespace.</summary>
    public const string Host = "host";

    public static bool IsValid(string mode) => mode is None or Host;
}
