using System.Diagnostics;
using Slacker.Fuse.Native;

namespace Slacker.Fuse.Tests;

/// <summary>Small helpers around the real kernel: mount table, external tools.</summary>
internal static class Kernel
{
    public static bool IsMounted(string mountPoint) =>
        MountTable.Read().Any(entry => entry.MountPoint == mountPoint);

    public static MountEntry? FindMount(string mountPoint) =>
        MountTable.Read().LastOrDefault(entry => entry.MountPoint == mountPoint);

    /// <summary>Runs a tool to completion; throws with its stderr when it fails.</summary>
    public static string Run(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
        }

        return stdout.Result;
    }

    /// <summary>umount2(MNT_DETACH) for test cleanup; ignores "not mounted".</summary>
    public static void Detach(string mountPoint)
    {
        if (IsMounted(mountPoint))
        {
            Libc.Umount2(mountPoint, Libc.MNT_DETACH);
        }
    }
}
