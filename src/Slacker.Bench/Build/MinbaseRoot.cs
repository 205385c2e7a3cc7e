using Slacker.Native.Processes;

namespace Slacker.Bench.Build;

/// <summary>Debian minbase made once per (suite, host apt configuration) with mmdebstrap, and kept in the cache.</summary>
internal static class MinbaseRoot
{
    public static string Key(string suite, HostApt apt)
    {
        using var key = new CacheKey("minbase");
        return key.Add(suite).Add(apt.Fingerprint).Finish();
    }

    /// <summary>Returns the rootfs directory, building it if it is not in the cache yet.</summary>
    public static async Task<string> EnsureAsync(BuildPaths paths, string suite, HostApt apt, Action<string>? progress, CancellationToken cancellationToken)
    {
        var key = Key(suite, apt);
        var dir = paths.MinbaseRoot(key);
        var rootfs = Path.Combine(dir, "rootfs");
        if (BuildPaths.IsComplete(dir))
        {
            return rootfs;
        }

        using var _ = await CacheLock.AcquireAsync(paths.CacheDir, "minbase-" + key, progress, cancellationToken);
        if (BuildPaths.IsComplete(dir))
        {
            return rootfs;
        }

        BuildPaths.DeleteTree(dir);
        Directory.CreateDirectory(dir);
        progress?.Invoke($"minbase {suite}: mmdebstrap (about half a minute; log {Path.Combine(paths.CacheDir, "logs", "minbase-" + key + ".log")})");
        using var log = new BuildLog(paths.CacheDir, "minbase-" + key, $"minbase {suite}", progress);
        var args = new List<string> { "--variant=minbase", "--mode=root", "--format=directory" };
        args.AddRange(apt.AcquireOptions.Select(o => "--aptopt=" + o));
        args.Add(suite);
        args.Add(rootfs);
        args.AddRange(apt.SourceFiles);
        var result = await ProcessRunner.RunAsync("mmdebstrap", args, new ProcessOptions { OnLine = log.Line }, cancellationToken);
        if (!result.Succeeded)
        {
            throw log.Failure($"mmdebstrap of Debian {suite} minbase into {rootfs}", result.ExitCode);
        }

        // The host's resolver does not belong in an image; runtimes bind-mount their own over this file.
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "resolv.conf"), string.Empty, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "hostname"), "localhost\n", cancellationToken);
        BuildPaths.MarkComplete(dir);
        return rootfs;
    }
}
