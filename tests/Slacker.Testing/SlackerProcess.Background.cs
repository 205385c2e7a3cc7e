using System.Diagnostics;
using System.Text;
using Slacker.Native;

namespace Slacker.Testing;

public static partial class SlackerProcess
{
    /// <summary>A long-running slacker process (server, node, logs -f) whose output is collected as it comes.</summary>
    public sealed class Background : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly Lock _gate = new();

        public Background(IEnumerable<string> args)
            : this(StartInfo(args))
        {
        }

        public Background(ProcessStartInfo info)
        {
            Process = Process.Start(info)!;
            Process.StandardInput.Close();
            Process.OutputDataReceived += (_, e) => Append(e.Data);
            Process.ErrorDataReceived += (_, e) => Append(e.Data);
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_gate)
                {
                    return _output.ToString();
                }
            }
        }

        /// <summary>Waits until the output contains <paramref name="text"/>; fails if the process ends first.</summary>
        public async Task WaitForOutputAsync(string text, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                if (Process.HasExited)
                {
                    throw new InvalidOperationException($"process ended before printing '{text}':\n{Output}");
                }

                if (DateTime.UtcNow >= deadline)
                {
                    throw new TimeoutException($"no '{text}' within {timeout}:\n{Output}");
                }

                await Task.Delay(50);
            }
        }

        public void Signal(int signal)
        {
            if (!Process.HasExited)
            {
                _ = Libc.Kill(Process.Id, signal);
            }
        }

        /// <summary>SIGKILL and a short wait: no shutdown code runs, like a power cut for the process (not for the disk).</summary>
        public void Kill()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: false);
            }

            // Not WaitForExit(): it also waits for EOF on pipes that children of the process may still hold.
            Process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        /// <summary>SIGTERM, and SIGKILL if it has not ended within <paramref name="grace"/>.</summary>
        public async Task StopAsync(TimeSpan grace)
        {
            Signal(Libc.SIGTERM);
            using var cts = new CancellationTokenSource(grace);
            try
            {
                await Process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Process.Kill();
                Process.WaitForExit(TimeSpan.FromSeconds(30));
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                await StopAsync(TimeSpan.FromSeconds(30));
            }

            Process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                _output.AppendLine(line);
            }
        }
    }
}
