namespace Slacker.Node.Agent;

/// <summary>How `slacker node` was started.</summary>
public sealed record NodeAgentOptions
{
    public const string DefaultDataDir = "/var/lib/slacker/node";
    public const string DefaultSocket = "/run/slacker/node.sock";
    public const string DefaultServer = "http://127.0.0.1:7070";

    public string DataDir { get; init; } = DefaultDataDir;

    public string ServerUrl { get; init; } = DefaultServer;

    public string SocketPath { get; init; } = DefaultSocket;

    /// <summary>crun (default), runc, or a path to an OCI runtime binary.</summary>
    public string Runtime { get; init; } = "crun";

    public long CacheCapacityBytes { get; init; } = 16L << 30;

    /// <summary>Record and replay startup profiles (see <see cref="NodeOptions.StartupProfiles"/>).</summary>
    public bool StartupProfiles { get; init; } = true;
}
