using System.Text.Json;

namespace Slacker.Node.Containers;

/// <summary>
/// Writes an OCI runtime bundle: config.json from the image config and the user's flags, plus the generated
/// /etc/hosts, /etc/hostname and /etc/resolv.conf that are bind-mounted over the image's own files.
/// </summary>
public static class BundleBuilder
{
    private const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    // Docker's default capability set: what most images expect to have as root, nothing that reaches the host.
    private static readonly string[] DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ];

    private static readonly string[] MaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    private static readonly string[] ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>The argv the container starts with: docker's Entrypoint/Cmd rules.</summary>
    public static IReadOnlyList<string> Arguments(ContainerConfig config, ImageRunConfig image)
    {
        List<string> args;
        if (config.Entrypoint is not null)
        {
            // --entrypoint replaces the image's entrypoint and drops its Cmd, as in docker.
            args = [.. config.Entrypoint, .. config.Cmd];
        }
        else
        {
            args = [.. image.Entrypoint, .. config.Cmd.Count > 0 ? config.Cmd : image.Cmd];
        }

        return args.Count > 0
            ? args
            : throw new ContainerException(ContainerErrors.BadRequest,
                $"Image '{config.Image}' has no Entrypoint or Cmd; give a command, e.g. 'slacker run {config.Image} sh'.");
    }

    public static IReadOnlyList<string> Environment(ContainerConfig config, ImageRunConfig image, string hostname, ResolvedUser user)
    {
        var env = new List<string>();
        void Set(string entry)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? entry : entry[..eq];
            env.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal) || e == key);
            env.Add(entry);
        }

        Set(DefaultPath);
        Set("HOSTNAME=" + hostname);
        foreach (var entry in image.Env)
        {
            Set(entry);
        }

        foreach (var entry in config.Env ?? [])
        {
            if (entry.Length == 0 || entry[0] == '=')
            {
                throw new ContainerException(ContainerErrors.BadRequest, $"Environment entry '{entry}' is not KEY=VALUE.");
            }

            Set(entry);
        }

        if (config.Tty && !env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal)))
        {
            env.Add("TERM=xterm");
        }

        if (!env.Any(e => e.StartsWith("HOME=", StringComparison.Ordinal)))
        {
            env.Add("HOME=" + (string.IsNullOrEmpty(user.Home) ? "/" : user.Home));
        }

        return env;
    }

    public static OciSpec Build(ContainerConfig config, ImageRunConfig image, string rootFs, string bundleDir, string hostname)
    {
        var user = UserResolver.Resolve(rootFs, config.User ?? image.User);
        var cwd = !string.IsNullOrEmpty(config.WorkingDir) ? config.WorkingDir
            : !string.IsNullOrEmpty(image.WorkingDir) ? image.WorkingDir : "/";
        if (!cwd.StartsWith('/'))
        {
            throw new ContainerException(ContainerErrors.BadRequest, $"Working directory '{cwd}' must be an absolute path.");
        }

        // Docker creates a missing working directory; the runtime would refuse to start in it.
        Directory.CreateDirectory(RootPath.Resolve(rootFs, cwd));

        var capabilities = new OciCapabilities(DefaultCapabilities, DefaultCapabilities, DefaultCapabilities, [], []);
        var process = new OciProcess(
            config.Tty,
            new OciUser(user.Uid, user.Gid, user.AdditionalGids.Count > 0 ? user.AdditionalGids : null),
            Arguments(config, image),
            Environment(config, image, hostname, user),
            cwd,
            capabilities,
            // No rlimits: the container inherits the node's, which are what this host allows (a fixed
            // RLIMIT_NOFILE above the host's hard limit makes the runtime fail with EPERM).
            [],
            NoNewPrivileges: false,
            ConsoleSize: config.Tty && config.ConsoleHeight > 0 ? new OciConsoleSize(config.ConsoleHeight, config.ConsoleWidth) : null);

        var mounts = new List<OciMount>
        {
            new("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
            new("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            new("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            new("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            new("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
            new("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        };

        WriteNetworkFiles(bundleDir, hostname, config.Network);
        foreach (var file in NetworkFiles)
        {
            mounts.Add(new OciMount("/etc/" + file, "bind", Path.Join(bundleDir, file), ["rbind", "rprivate"]));
        }

        foreach (var spec in config.Binds ?? [])
        {
            var bind = BindMount.Parse(spec);
            mounts.Add(new OciMount(bind.ContainerPath, "bind", bind.HostPath, ["rbind", "rprivate", bind.ReadOnly ? "ro" : "rw"]));
        }

        var namespaces = new List<OciNamespace> { new("pid"), new("ipc"), new("uts"), new("mount") };
        if (config.Network != NetworkModes.Host)
        {
            namespaces.Add(new OciNamespace("network"));
        }

        return new OciSpec(
            "1.0.2",
            process,
            new OciRoot(rootFs, Readonly: false),
            hostname,
            mounts,
            new OciLinux(namespaces, MaskedPaths, ReadonlyPaths));
    }

    public static void Write(OciSpec spec, string bundleDir)
    {
        var path = Path.Join(bundleDir, "config.json");
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(spec, ContainerJsonContext.Default.OciSpec));
        File.Move(temp, path, overwrite: true);
    }

    private static readonly string[] NetworkFiles = ["hosts", "hostname", "resolv.conf"];

    private static void WriteNetworkFiles(string bundleDir, string hostname, string network)
    {
        File.WriteAllText(Path.Join(bundleDir, "hostname"), hostname + "\n");
        File.WriteAllText(Path.Join(bundleDir, "hosts"),
            $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n");

        // With its own network namespace a container cannot reach a host-local resolver (127.0.0.53), so only
        // the host network mode gets the host's resolver list; the loopback-only modes get an empty one.
        var resolv = network == NetworkModes.Host && File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : "";
        File.WriteAllText(Path.Join(bundleDir, "resolv.conf"), resolv);
    }
}
