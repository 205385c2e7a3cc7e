namespace Slacker.Node.Containers;

// The subset of the OCI runtime spec (config.json, runtime-spec v1.0) that Slacker writes. Property names are the
// spec's camelCase names, which the web JSON defaults produce.

public sealed record OciSpec(
    string OciVersion,
    OciProcess Process,
    OciRoot Root,
    string Hostname,
    IReadOnlyList<OciMount> Mounts,
    OciLinux Linux);

public sealed record OciProcess(
    bool Terminal,
    OciUser User,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> Env,
    string Cwd,
    OciCapabilities Capabilities,
    IReadOnlyList<OciRlimit> Rlimits,
    bool NoNewPrivileges,
    OciConsoleSize? ConsoleSize = null);

public sealed record OciConsoleSize(uint Height, uint Width);

public sealed record OciUser(uint Uid, uint Gid, IReadOnlyList<uint>? AdditionalGids = null);

public sealed record OciCapabilities(
    IReadOnlyList<string> Bounding,
    IReadOnlyList<string> Effective,
    IReadOnlyList<string> Permitted,
    IReadOnlyList<string> Inheritable,
    IReadOnlyList<string> Ambient);

public sealed record OciRlimit(string Type, ulong Hard, ulong Soft);

public sealed record OciRoot(string Path, bool Readonly);

public sealed record OciMount(string Destination, string Type, string Source, IReadOnlyList<string>? Options = null);

public sealed record OciLinux(
    IReadOnlyList<OciNamespace> Namespaces,
    IReadOnlyList<string> MaskedPaths,
    IReadOnlyList<string> ReadonlyPaths);

public sealed record OciNamespace(string Type, string? Path = null);
