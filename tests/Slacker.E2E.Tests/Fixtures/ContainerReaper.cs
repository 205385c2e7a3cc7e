using System.Globalization;

namespace Slacker.E2E.Tests.Fixtures;

/// <summary>
/// Containers that a failed test left running (say its node was killed and never restarted). Each holds its
/// root file system's mount, and with it the loop device, in its own mount namespace, where no unmount of ours
/// reaches. Their PIDs are in the nodes' pid files, and a process counts as ours only if its parent is the
/// OCI runtime started on a bundle under the test's root (a recycled PID would have another parent).
/// </summary>
public static class ContainerReaper
{
    public static void KillContainersOf(string nodeData, string root)
    {
        // NODE/containers/<id>/pid exactly: a recursive search could walk into a bundle's root file system, whose
        // FUSE server may be the node that the test killed.
        var containers = Path.Join(nodeData, "containers");
        if (!Directory.Exists(containers))
        {
            return;
        }

        foreach (var pidFile in Directory.EnumerateDirectories(containers).Select(c => Path.Join(c, "pid")).Where(File.Exists))
        {
            if (!int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid) || !IsContainerUnder(pid, root))
            {
                continue;
            }

            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (ArgumentException)
            {
                // Exited meanwhile.
            }
        }
    }

    private static bool IsContainerUnder(int pid, string root)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
            var command = File.ReadAllText($"/proc/{parent}/cmdline").Replace('\0', ' ');
            return command.Contains($" --bundle {root}/", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // gone
        }
    }
}
