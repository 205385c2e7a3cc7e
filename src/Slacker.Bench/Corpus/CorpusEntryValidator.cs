using System.Globalization;
using System.Text.RegularExpressions;

namespace Slacker.Bench.Corpus;

/// <summary>Turns one wire entry into a <see cref="CorpusEntry"/>, or throws naming the first bad field.</summary>
internal sealed partial class CorpusEntryValidator(string where, string baseDirectory, string suite)
{
    private string _where = where;

    public CorpusEntry Validate(CorpusEntryDocument raw)
    {
        var name = Required(raw.Name, "name");
        if (!ImageNamePattern().IsMatch(name))
        {
            throw Error("name", $"must be a lower-case image name ([a-z0-9._-], starting with a letter or digit), got '{name}'");
        }

        _where = $"{_where} ({name})";
        var category = Required(raw.Category, "category");
        var baseKind = raw.Base switch
        {
            null or "minbase" => BaseKind.Minbase,
            "empty" => BaseKind.Empty,
            _ => throw Error("base", $"must be 'minbase' or 'empty', got '{raw.Base}'"),
        };
        var install = raw.Install switch
        {
            null or "apt" => InstallMethod.Apt,
            "extract" => InstallMethod.Extract,
            _ => throw Error("install", $"must be 'apt' or 'extract', got '{raw.Install}'"),
        };
        var packages = StringList(raw.Packages, "packages") ?? [];
        foreach (var package in packages)
        {
            if (!CorpusFile.DebianNamePattern().IsMatch(package))
            {
                throw Error("packages", $"'{package}' is not a Debian package name");
            }
        }

        if (baseKind == BaseKind.Empty && install != InstallMethod.Extract)
        {
            throw Error("install", "must be 'extract' when 'base' is 'empty' (an empty root has no apt to run)");
        }

        if (install == InstallMethod.Extract && packages.Count == 0)
        {
            throw Error("packages", "must name at least one package when 'install' is 'extract'");
        }

        var setup = StringList(raw.Setup, "setup");
        var mode = raw.Mode switch
        {
            "echo" => RunMode.Echo,
            "arg" => RunMode.Arg,
            "stdin" => RunMode.Stdin,
            "waitline" => RunMode.WaitLine,
            "http" => RunMode.Http,
            null => throw Error("mode", "is missing; it must be one of echo|arg|stdin|waitline|http"),
            _ => throw Error("mode", $"must be one of echo|arg|stdin|waitline|http, got '{raw.Mode}'"),
        };
        var command = StringList(raw.Command, "command");
        if (mode is RunMode.Echo or RunMode.Arg or RunMode.Stdin && (command is null || command.Count == 0))
        {
            throw Error("command", $"must list the program and its arguments for mode '{raw.Mode}'");
        }

        if (mode == RunMode.Stdin && string.IsNullOrEmpty(raw.Stdin))
        {
            throw Error("stdin", "must hold the script fed to the container for mode 'stdin'");
        }

        if (mode != RunMode.Stdin && raw.Stdin is not null)
        {
            throw Error("stdin", $"is only used by mode 'stdin', not '{raw.Mode}'");
        }

        if (mode == RunMode.WaitLine && string.IsNullOrEmpty(raw.Marker))
        {
            throw Error("marker", "must hold the log text that means 'ready' for mode 'waitline'");
        }

        if (raw.Port is { } p && (p < 1 || p > 65535))
        {
            throw Error("port", $"must be a TCP port 1-65535, got {p}");
        }

        if (mode == RunMode.Http && raw.Port is null)
        {
            throw Error("port", "must name the TCP port to poll for mode 'http'");
        }

        var httpPath = raw.HttpPath ?? "/";
        if (!httpPath.StartsWith('/'))
        {
            throw Error("httpPath", $"must start with '/', got '{httpPath}'");
        }

        string? assets = null;
        if (raw.Assets is not null)
        {
            assets = ExistingDirectory(raw.Assets, "assets");
        }

        var assetsTarget = raw.AssetsTarget ?? "/hello";
        if (!assetsTarget.StartsWith('/') || assetsTarget.Contains("..", StringComparison.Ordinal))
        {
            throw Error("assetsTarget", $"must be an absolute path without '..', got '{assetsTarget}'");
        }

        var mounts = new List<MountSpec>();
        for (var i = 0; i < (raw.Mounts?.Count ?? 0); i++)
        {
            var m = raw.Mounts![i] ?? throw Error($"mounts[{i}]", "is null; it must be an object with 'source' and 'target'");
            var source = ExistingDirectory(Required(m.Source, $"mounts[{i}].source"), $"mounts[{i}].source");
            var target = Required(m.Target, $"mounts[{i}].target");
            if (!target.StartsWith('/'))
            {
                throw Error($"mounts[{i}].target", $"must be an absolute container path, got '{target}'");
            }

            mounts.Add(new MountSpec(source, target, m.ReadOnly ?? false));
        }

        var timeout = raw.TimeoutSeconds ?? 600;
        if (timeout < 1)
        {
            throw Error("timeoutSeconds", $"must be at least 1, got {timeout}");
        }

        return new CorpusEntry
        {
            Name = name,
            Category = category,
            Suite = suite,
            Base = baseKind,
            Packages = packages,
            Install = install,
            Setup = setup is { Count: > 0 } ? setup : null,
            AssetsDirectory = assets,
            AssetsTarget = assetsTarget,
            Config = Config(raw.Config),
            Mode = mode,
            Command = command,
            Stdin = raw.Stdin,
            Expect = string.IsNullOrEmpty(raw.Expect) ? null : raw.Expect,
            Marker = raw.Marker,
            Port = raw.Port,
            HttpPath = httpPath,
            Env = Dictionary(raw.Env, "env"),
            Mounts = mounts,
            Timeout = TimeSpan.FromSeconds(timeout),
            Parity = Parity(raw.Parity, raw.Port),
        };
    }

    private ParitySpec? Parity(ParityDocument? raw, int? port)
    {
        if (raw is null)
        {
            return null;
        }

        var probe = raw.Probe switch
        {
            "tcp" => ProbeKind.Tcp,
            "redis" => ProbeKind.Redis,
            "postgres" => ProbeKind.Postgres,
            "http" => ProbeKind.Http,
            _ => throw Error("parity.probe", $"must be one of tcp|redis|postgres|http, got '{raw.Probe}'"),
        };
        if (port is null)
        {
            throw Error("port", "must name the server's TCP port when 'parity' is given");
        }

        var client = StringList(raw.Client, "parity.client");
        if (client is null || client.Count == 0)
        {
            throw Error("parity.client", "must list the load client's program and arguments");
        }

        var metric = Required(raw.Metric, "parity.metric");
        try
        {
            if (new Regex(metric, RegexOptions.None, TimeSpan.FromSeconds(1)).GetGroupNumbers().Length < 2)
            {
                throw Error("parity.metric", $"'{metric}' needs one capture group around the number");
            }
        }
        catch (ArgumentException ex)
        {
            throw Error("parity.metric", $"'{metric}' is not a regular expression: {ex.Message}");
        }

        return new ParitySpec(probe, StringList(raw.Prepare, "parity.prepare"), client, metric, Required(raw.Unit, "parity.unit"));
    }

    private ImageConfigSpec Config(ImageConfigDocument? raw)
    {
        if (raw is null)
        {
            return new ImageConfigSpec(null, null, new SortedDictionary<string, string>(StringComparer.Ordinal), null, null, [], new SortedDictionary<string, string>(StringComparer.Ordinal));
        }

        var ports = StringList(raw.ExposedPorts, "config.exposedPorts") ?? [];
        foreach (var port in ports)
        {
            if (!PortPattern().IsMatch(port))
            {
                throw Error("config.exposedPorts", $"'{port}' must look like '80/tcp' or '53/udp'");
            }
        }

        if (raw.WorkingDir is { } wd && !wd.StartsWith('/'))
        {
            throw Error("config.workingDir", $"must be an absolute path, got '{wd}'");
        }

        return new ImageConfigSpec(
            StringList(raw.Cmd, "config.cmd"),
            StringList(raw.Entrypoint, "config.entrypoint"),
            Dictionary(raw.Env, "config.env"),
            raw.WorkingDir,
            string.IsNullOrEmpty(raw.User) ? null : raw.User,
            ports,
            Dictionary(raw.Labels, "config.labels"));
    }

    private string ExistingDirectory(string relative, string field)
    {
        var full = Path.GetFullPath(Path.Combine(baseDirectory, relative));
        if (!Directory.Exists(full))
        {
            throw Error(field, $"names directory '{relative}', which does not exist at {full}");
        }

        return full;
    }

    private string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw Error(field, "is missing or empty") : value;

    private List<string>? StringList(List<string?>? values, string field)
    {
        if (values is null)
        {
            return null;
        }

        var result = new List<string>(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            result.Add(values[i] ?? throw Error($"{field}[{i}]", "is null; use a string"));
        }

        return result;
    }

    private SortedDictionary<string, string> Dictionary(Dictionary<string, string?>? values, string field)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values ?? [])
        {
            if (key.Length == 0 || key.Contains('='))
            {
                throw Error(field, $"has key '{key}'; keys must be non-empty and contain no '='");
            }

            result[key] = value ?? throw Error($"{field}.{key}", "is null; use a string");
        }

        return result;
    }

    private CorpusException Error(string field, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{_where}: field '{field}' {problem}."));

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex ImageNamePattern();

    [GeneratedRegex("^[0-9]{1,5}/(tcp|udp|sctp)$")]
    private static partial Regex PortPattern();
}
