using Slacker.Bench.Corpus;
using Slacker.Native.Processes;

namespace Slacker.Bench.Build;

/// <summary>
/// Produces the overlay upper dir holding what installing an entry's packages changed on top of its base.
/// The upper dir is kept in the cache so the packages layer can always be rewritten from the same tree.
/// </summary>
internal static class PackagesUpper
{
    public static string Key(CorpusEntry entry, string baseKey, string? debianKey)
    {
        using var key = new CacheKey("packages");
        return key.Add(EmbeddedScript("install-packages.sh")).Add(baseKey).Add(debianKey).Add(entry.Install.ToString()).Add(entry.Packages).Add(entry.Setup ?? ["(none)"]).Finish();
    }

    /// <summary>Returns the upper dir, running apt (or apt-get download + dpkg -x) if it is not cached.</summary>
    public static async Task<string> EnsureAsync(
        BuildPaths paths, CorpusEntry entry, string key, string baseRoot, string? debianRoot, Action<string>? progress, CancellationToken cancellationToken)
    {
        var dir = paths.Packages(key);
        var upper = Path.Combine(dir, "upper");
        if (BuildPaths.IsComplete(dir))
        {
            return upper;
        }

        using var _ = await CacheLock.AcquireAsync(paths.CacheDir, "packages-" + key, progress, cancellationToken);
        if (BuildPaths.IsComplete(dir))
        {
            return upper;
        }

        var scratch = paths.Scratch("packages-" + key);
        BuildPaths.DeleteTree(scratch);
        BuildPaths.DeleteTree(dir);
        try
        {
            var env = new Dictionary<string, string>
            {
                ["HB_MODE"] = entry.Install == InstallMethod.Apt ? "apt" : "extract",
                ["HB_BASE"] = baseRoot,
                ["HB_UPPER"] = upper,
                ["HB_WORK"] = Path.Combine(scratch, "work"),
                ["HB_MERGED"] = Path.Combine(scratch, "merged"),
                ["HB_PACKAGES"] = string.Join(' ', entry.Packages),
                ["HB_DEBIAN"] = debianRoot ?? string.Empty,
                ["HB_FETCH_UPPER"] = Path.Combine(scratch, "fetch-upper"),
                ["HB_FETCH_WORK"] = Path.Combine(scratch, "fetch-work"),
                ["HB_FETCH_MERGED"] = Path.Combine(scratch, "fetch-merged"),
            };
            Directory.CreateDirectory(upper);
            foreach (var name in new[] { "HB_WORK", "HB_MERGED", "HB_FETCH_UPPER", "HB_FETCH_WORK", "HB_FETCH_MERGED" })
            {
                Directory.CreateDirectory(env[name]);
            }

            var script = Path.Combine(scratch, "install-packages.sh");
            await File.WriteAllTextAsync(script, EmbeddedScript("install-packages.sh"), cancellationToken);

            var packages = entry.Packages.Count == 0 ? "(none)" : string.Join(' ', entry.Packages);
            progress?.Invoke($"{entry.Name}: installing {packages} (log {Path.Combine(paths.CacheDir, "logs", $"packages-{entry.Name}-{key}.log")})");
            using var log = new BuildLog(paths.CacheDir, $"packages-{entry.Name}-{key}", entry.Name, progress);
            var args = new List<string> { "--mount", "--propagation", "private", "sh", script };
            args.AddRange(entry.Setup ?? []);
            var result = await ProcessRunner.RunAsync("unshare", args, new ProcessOptions { Environment = env, OnLine = log.Line }, cancellationToken);
            if (!result.Succeeded)
            {
                throw log.Failure($"installing packages for corpus image '{entry.Name}' ({packages})", result.ExitCode);
            }

            BuildPaths.MarkComplete(dir);
            return upper;
        }
        finally
        {
            BuildPaths.DeleteTree(scratch);
        }
    }

    private static string EmbeddedScript(string name)
    {
        using var stream = typeof(PackagesUpper).Assembly.GetManifestResourceStream("scripts/" + name)
            ?? throw new InvalidOperationException($"embedded script {name} is missing from {typeof(PackagesUpper).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
