using System.Text.Json;
using Slacker.Native.Processes;

namespace Slacker.Node.Containers;

/// <summary>
/// An OCI runtime binary (crun by default, or runc) and how this host has to call it. Its state directory is
/// under the node's data dir so that two nodes on one host never see each other's containers.
/// </summary>
public sealed class OciRuntime
{
    // crun refuses to run on a hybrid cgroup host whose cgroup2 hierarchy has any controller enabled, even with
    // --cgroup-manager=disabled. In a private mount namespace without /sys/fs/cgroup/unified it sees a plain
    // cgroup v1 host, and with the manager disabled it creates no cgroup at all. runc copes with hybrid hosts.
    private const string MonitorScript =
        """
        exit_file=$1; unmount_unified=$2; shift 2
        if [ "$unmount_unified" = yes ]; then umount -l /sys/fs/cgroup/unified || exit 125; fi
        "$@"
        code=$?
        echo "$code" > "$exit_file.tmp" && mv "$exit_file.tmp" "$exit_file"
        exit "$code"
        """;

    public string Name { get; }

    public string BinaryPath { get; }

    public string StateRoot { get; }

    private OciRuntime(string name, string binaryPath, string stateRoot)
    {
        Name = name;
        BinaryPath = binaryPath;
        StateRoot = stateRoot;
    }

    public bool IsCrun => Name == "crun";

    /// <summary>Finds the runtime by name (crun, runc) or absolute path; throws RUNTIME_MISSING when it is not installed.</summary>
    public static OciRuntime Locate(string nameOrPath, string stateRoot)
    {
        var path = nameOrPath.Contains('/', StringComparison.Ordinal) ? nameOrPath : FindOnPath(nameOrPath);
        if (path is null || !File.Exists(path))
        {
            throw new ContainerException(ContainerErrors.RuntimeMissing,
                $"OCI runtime '{nameOrPath}' is not installed (not found{(path is null ? " on PATH" : $" at {path}")}); " +
                "install it (apt-get install crun) or choose another with --runtime runc.");
        }

        var name = Path.GetFileName(path);
        Directory.CreateDirectory(stateRoot);
        return new OciRuntime(name, path, stateRoot);
    }

    private static string? FindOnPath(string name)
    {
        var search = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin";
        foreach (var dir in search.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Join(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private IEnumerable<string> GlobalArguments()
    {
        yield return "--root";
        yield return StateRoot;
        if (IsCrun)
        {
            yield return "--cgroup-manager=disabled";
        }
    }

    /// <summary>
    /// The command line that runs a container in the foreground. The runtime stays our child, so its stdio are
    /// our pipes; a small monitor shell records the exit code in a file, so the code is known even when the
    /// node was down when the container ended.
    /// </summary>
    public (string FileName, IReadOnlyList<string> Arguments) RunCommand(string id, string bundle, string pidFile, string exitFile, string? consoleSocket)
    {
        var unmountUnified = IsCrun && CgroupHost.IsHybridWithV2Controllers();
        var args = new List<string> { "--wait" };
        if (unmountUnified)
        {
            args.AddRange(["unshare", "--mount", "--propagation", "slave", "--"]);
        }

        args.AddRange(["/bin/sh", "-c", MonitorScript, "slacker-monitor", exitFile, unmountUnified ? "yes" : "no", BinaryPath]);
        args.AddRange(GlobalArguments());
        args.AddRange(["run", "--bundle", bundle, "--pid-file", pidFile]);
        if (consoleSocket is not null)
        {
            args.AddRange(["--console-socket", consoleSocket]);
        }

        args.Add(id);

        // setsid: the container must not share the node's session, or a Ctrl-C aimed at a foreground
        // `slacker node` would reach every container too.
        return ("setsid", args);
    }

    public async Task<bool> KillAsync(string id, string signal, CancellationToken cancellationToken = default)
    {
        var result = await ProcessRunner.RunAsync(BinaryPath, [.. GlobalArguments(), "kill", id, signal], cancellationToken: cancellationToken);
        return result.ExitCode == 0;
    }

    /// <summary>Forgets the container's runtime state; free when there is none (a container that never ran).</summary>
    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        // crun and runc keep one directory per container under --root; without it there is nothing to delete,
        // and not spawning the runtime saves a process start on every container start.
        if (Directory.Exists(Path.Join(StateRoot, id)))
        {
            await ProcessRunner.RunAsync(BinaryPath, [.. GlobalArguments(), "delete", "--force", id], cancellationToken: cancellationToken);
        }
    }

    /// <summary>The runtime's status for the container ("created", "running", "stopped"), or null when it has none.</summary>
    public async Task<string?> StatusAsync(string id, CancellationToken cancellationToken = default)
    {
        var result = await ProcessRunner.RunAsync(BinaryPath, [.. GlobalArguments(), "state", id], cancellationToken: cancellationToken);
        if (result.ExitCode != 0)
        {
            return null;
        }

        using var document = JsonDocument.Parse(result.StandardOutput);
        return document.RootElement.TryGetProperty("status", out var status) ? status.GetString() : null;
    }
}
