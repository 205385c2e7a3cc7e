namespace Slacker.Bench.Corpus;

public enum RunMode
{
    Echo,
    Arg,
    Stdin,
    WaitLine,
    Http,
}

/// <summary>Where the image's first layer comes from.</summary>
public enum BaseKind
{
    /// <summary>Debian minbase made by mmdebstrap with the host's apt sources.</summary>
    Minbase,

    /// <summary>A bare directory skeleton: the packages layer must bring everything (busybox).</summary>
    Empty,
}

/// <summary>How the packages layer is made.</summary>
public enum InstallMethod
{
    /// <summary><c>apt-get install --no-install-recommends</c> in a chroot over the base, captured as the overlay upper dir.</summary>
    Apt,

    /// <summary>The named .deb files unpacked with <c>dpkg -x</c>: no dependencies, no maintainer scripts.</summary>
    Extract,
}

public sealed record MountSpec(string Source, string Target, bool ReadOnly);

/// <summary>How "answered" is recognised for the long-running parity's time to first answered request.</summary>
public enum ProbeKind
{
    /// <summary>A TCP connection is accepted.</summary>
    Tcp,

    /// <summary>PING gets +PONG.</summary>
    Redis,

    /// <summary>An SSLRequest gets 'S' or 'N': the postmaster accepts connections.</summary>
    Postgres,

    /// <summary>Any HTTP response.</summary>
    Http,
}

/// <summary>
/// Long-running parity: a server image under a client load after warm-up. The client runs in a second
/// container of the same image; "{seconds}" in its arguments becomes the measuring time.
/// </summary>
public sealed record ParitySpec(ProbeKind Probe, IReadOnlyList<string>? Prepare, IReadOnlyList<string> Client, string Metric, string Unit);

public sealed record ImageConfigSpec(
    IReadOnlyList<string>? Cmd,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyDictionary<string, string> Env,
    string? WorkingDir,
    string? User,
    IReadOnlyList<string> ExposedPorts,
    IReadOnlyDictionary<string, string> Labels);

/// <summary>One HelloBench image: how to build it and how its "hello" job runs. Paths are absolute.</summary>
public sealed record CorpusEntry
{
    public required string Name { get; init; }
    public required string Category { get; init; }
    public required string Suite { get; init; }
    public required BaseKind Base { get; init; }
    public required IReadOnlyList<string> Packages { get; init; }
    public required InstallMethod Install { get; init; }
    /// <summary>A command (no shell implied) run in a chroot of the image after the packages are in.</summary>
    public IReadOnlyList<string>? Setup { get; init; }
    public string? AssetsDirectory { get; init; }
    public required string AssetsTarget { get; init; }
    public required ImageConfigSpec Config { get; init; }
    public required RunMode Mode { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    public string? Stdin { get; init; }
    public string? Expect { get; init; }
    public string? Marker { get; init; }
    public int? Port { get; init; }
    public required string HttpPath { get; init; }
    public required IReadOnlyDictionary<string, string> Env { get; init; }
    public required IReadOnlyList<MountSpec> Mounts { get; init; }
    public required TimeSpan Timeout { get; init; }

    public ParitySpec? Parity { get; init; }
}
