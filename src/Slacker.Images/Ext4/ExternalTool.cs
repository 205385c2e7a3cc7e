using System.Diagnostics;
using System.Text;

namespace Slacker.Images.Ext4;

/// <summary>Runs e2fsprogs and util-linux tools; a failure names the command and shows what it printed.</summary>
internal static class ExternalTool
{
    public static async Task<string> RunAsync(string tool, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is not installed or not on PATH ({e.Message}); install e2fsprogs and util-linux.", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                var command = new StringBuilder(tool);
                foreach (var argument in arguments)
                {
                    command.Append(' ').Append(argument);
                }

                throw new InvalidOperationException($"'{command}' failed with exit code {process.ExitCode}: {(errors + output).Trim()}");
            }

            return output;
        }
    }
}
