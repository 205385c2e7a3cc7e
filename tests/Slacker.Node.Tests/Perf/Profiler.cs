using System.Diagnostics;

namespace Slacker.Node.Tests.Perf;

/// <summary>
/// `perf record` while a measurement runs, when SLACKER_PERF_RECORD names a directory (run with
/// DOTNET_PerfMapEnabled=1 so that perf can name JIT-compiled frames). System-wide, because much of a read's cost is
/// in kernel threads that belong to no process of ours (the loop driver's workers, writeback). Stopped by its own PID.
/// </summary>
internal sealed class Profiler : IDisposable
{
    private readonly Process? _perf;

    private Profiler(Process? perf) => _perf = perf;

    public static Profiler Start(string name)
    {
        var directory = Environment.GetEnvironmentVariable("SLACKER_PERF_RECORD");
        if (string.IsNullOrEmpty(directory))
        {
            return new Profiler(null);
        }

        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("perf") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "record", "-F", "999", "-g", "-a", "-o", Path.Combine(directory, name + ".data") })
        {
            start.ArgumentList.Add(argument);
        }

        var perf = Process.Start(start)!;
        perf.OutputDataReceived += (_, _) => { };
        perf.ErrorDataReceived += (_, _) => { };
        perf.BeginOutputReadLine();
        perf.BeginErrorReadLine();
        Thread.Sleep(500); // perf attaches to every thread before it samples
        return new Profiler(perf);
    }

    public void Dispose()
    {
        if (_perf is null)
        {
            return;
        }

        // SIGINT makes perf write its file and exit.
        _ = Kill(_perf.Id, 2);
        if (!_perf.WaitForExit(30_000))
        {
            _perf.Kill();
        }

        _perf.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
