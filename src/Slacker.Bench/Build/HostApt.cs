using Slacker.Native.Processes;

namespace Slacker.Bench.Build;

/// <summary>
/// The host's apt configuration, read at build time: its source files and the Acquire settings that decide
/// whether a download works (proxies, validity checks of snapshot mirrors). Nothing about mirrors is ever
/// written into the project; the chroots simply use what this machine uses.
/// </summary>
internal sealed record HostApt(IReadOnlyList<string> SourceFiles, IReadOnlyList<string> AcquireOptions, string Fingerprint)
{
    private static readonly string[] NetworkAcquirePrefixes =
    [
        "Acquire::Check-Valid-Until ",
        "Acquire::Check-Date ",
        "Acquire::Max-FutureTime ",
        "Acquire::Retries ",
        "Acquire::ForceIPv4 ",
        "Acquire::ForceIPv6 ",
        "Acquire::http::",
        "Acquire::https::",
        "Acquire::http ",
        "Acquire::https ",
    ];

    public static async Task<HostApt> ReadAsync(CancellationToken cancellationToken)
    {
        var files = new List<string>();
        if (File.Exists("/etc/apt/sources.list") && File.ReadAllLines("/etc/apt/sources.list").Any(l => l.TrimStart().StartsWith("deb", StringComparison.Ordinal)))
        {
            files.Add("/etc/apt/sources.list");
        }

        if (Directory.Exists("/etc/apt/sources.list.d"))
        {
            files.AddRange(Directory.EnumerateFiles("/etc/apt/sources.list.d")
                .Where(f => f.EndsWith(".list", StringComparison.Ordinal) || f.EndsWith(".sources", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal));
        }

        if (files.Count == 0)
        {
            throw new InvalidOperationException("this host has no apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list|*.sources); the corpus is installed through the host's apt configuration, so configure apt first.");
        }

        var dump = await ProcessRunner.RunAsync("apt-config", ["dump"], cancellationToken: cancellationToken);
        dump.EnsureSuccess("reading the host's apt configuration");
        var options = dump.StandardOutput.Split('\n')
            .Select(l => l.Trim().TrimEnd(';'))
            .Where(l => NetworkAcquirePrefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal)))
            .ToList();

        using var key = new CacheKey("host-apt");
        foreach (var file in files)
        {
            key.Add(file).AddBytes(File.ReadAllBytes(file));
        }

        key.Add(options);
        return new HostApt(files, options, key.Finish());
    }
}
