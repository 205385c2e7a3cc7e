using System.Diagnostics;
using System.Globalization;

namespace Slacker.Node.Tests.Infrastructure;

/// <summary>The crash-test node (tests/Slacker.Node.TestHost) as a child process, killed by PID.</summary>
internal sealed class NodeHostProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stderr = [];

    private NodeHostProcess(Process process)
    {
        _process = process;
    }

    private static string TestHostDll => Artifacts.Find("Slacker.Node.TestHost", "Slacker.Node.TestHost.dll", "SLACKER_NODE_TESTHOST_DLL");

    /// <summary>Same formula as the host's CrashContent.</summary>
    public static byte[] Content(int n)
    {
        var bytes = new byte[(64 * 1024) + (n * 1000)];
        new Random(n).NextBytes(bytes);
        return bytes;
    }

    public static NodeHostProcess Start(string nodeRoot, Uri server, string volumeId)
    {
        var start = new ProcessStartInfo(Artifacts.DotNet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { TestHostDll, nodeRoot, server.ToString(), volumeId })
        {
            start.ArgumentList.Add(argument);
        }

        var host = new NodeHostProcess(Process.Start(start)!);
        host._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (host._stderr)
                {
                    host._stderr.Add(e.Data);
                }
            }
        };
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Reads "synced n" lines until n reaches <paramref name="atLeast"/>; returns the last n seen.</summary>
    public async Task<int> WaitForSyncedAsync(int atLeast)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var last = -1;
        while (last < atLeast)
        {
            var line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
            if (line is null)
            {
                string errors;
                lock (_stderr)
                {
                    errors = string.Join('\n', _stderr);
                }

                throw new InvalidOperationException($"The test host ended before syncing {atLeast} files: {errors}");
            }

            if (line.StartsWith("synced ", StringComparison.Ordinal))
            {
                last = int.Parse(line["synced ".Length..], CultureInfo.InvariantCulture);
            }
        }

        return last;
    }

    /// <summary>SIGKILL: the node gets no chance to unmount or flush anything.</summary>
    public void KillHard()
    {
        _process.Kill();

        // Do not wait for the exit: a thread of the dead node may sit in the kernel on a request to its own FUSE
        // mount, and the process cannot finish dying until the stale cleanup aborts that connection. Nor
        // WaitForExit(): it also waits for EOF on output pipes that the node's children may still hold.
        _process.WaitForExit(TimeSpan.FromSeconds(2));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillHard();
        }

        _process.Dispose();
    }
}
