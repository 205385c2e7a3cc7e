using System.Globalization;
using Slacker.Bench.Corpus;
using Slacker.Native;
using Slacker.Bench.Oci;
using Slacker.Images.Export;

namespace Slacker.Bench.Build;

/// <summary>
/// Builds corpus images as real three-layer OCI image layouts: base (Debian minbase, or an empty skeleton),
/// packages (what apt installed, from an overlay upper dir), and the hello assets. Every step is cached under
/// the cache dir by a hash of what decides it, so a second build of the same entry changes nothing.
/// </summary>
public static class CorpusBuilder
{
    /// <summary>Default cache location; the SLACKER_CORPUS_CACHE environment variable overrides it.</summary>
    public const string DefaultCacheDir = "/var/cache/slacker/corpus";

    public const string Tag = "latest";

    /// <summary>Mtime clamp and config "created" time: SOURCE_DATE_EPOCH if set, else bookworm's release day.</summary>
    public static DateTimeOffset Epoch =>
        long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.FromUnixTimeSeconds(1_686_355_200);

    public static string CacheDirFromEnvironment() =>
        Environment.GetEnvironmentVariable("SLACKER_CORPUS_CACHE") is { Length: > 0 } dir ? dir : DefaultCacheDir;

    /// <summary>Writes progress to stderr, one line per step, prefixed so it reads well among other output.</summary>
    public static void StderrProgress(string message) => Console.Error.WriteLine($"[corpus] {message}");

    public static async Task<OciLayoutRef> BuildAsync(CorpusEntry entry, string cacheDir, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the corpus builder needs Linux (mmdebstrap, overlayfs, chroot).");
        }

        if (Libc.GetEuid() != 0)
        {
            throw new InvalidOperationException(
                $"building corpus image '{entry.Name}' needs root (mmdebstrap --mode=root, overlay mounts, chroot); run as root or use images already in {cacheDir}.");
        }

        var paths = new BuildPaths(cacheDir);
        Directory.CreateDirectory(paths.CacheDir);
        var epoch = Epoch;
        var layerOptions = new TreeTarOptions { Epoch = epoch, SkipSockets = true, Warn = m => progress?.Invoke($"{entry.Name}: warning: {m}") };

        var apt = await HostApt.ReadAsync(cancellationToken);
        var minbaseKey = MinbaseRoot.Key(entry.Suite, apt);
        var minbase = await MinbaseRoot.EnsureAsync(paths, entry.Suite, apt, progress, cancellationToken);

        string baseRoot, baseKey, baseCreatedBy;
        if (entry.Base == BaseKind.Minbase)
        {
            (baseRoot, baseKey, baseCreatedBy) = (minbase, minbaseKey, $"mmdebstrap --variant=minbase {entry.Suite} (host apt sources)");
        }
        else
        {
            (baseRoot, baseKey, baseCreatedBy) = (SkeletonRoot.Ensure(paths), SkeletonRoot.Key(), "empty root skeleton");
        }

        var baseLayer = await LayerAsync(paths, "base-" + baseKey, baseRoot, layerOptions, $"{entry.Name}: writing base layer", progress, cancellationToken);

        var packagesKey = PackagesUpper.Key(entry, baseKey, entry.Base == BaseKind.Empty ? minbaseKey : null);
        var upper = await PackagesUpper.EnsureAsync(paths, entry, packagesKey, baseRoot, entry.Base == BaseKind.Empty ? minbase : null, progress, cancellationToken);
        var packagesLayer = await LayerAsync(
            paths, "packages-" + packagesKey, upper, layerOptions with { OverlayUpper = true }, $"{entry.Name}: writing packages layer", progress, cancellationToken);

        var (assetsKey, assetsSource, emptyAssets) = AssetsSource(entry, paths);
        LayerBlob assetsLayer;
        try
        {
            assetsLayer = await LayerAsync(
                paths, "assets-" + assetsKey, assetsSource, layerOptions with { Normalize = true, Prefix = entry.AssetsTarget.Trim('/') }, null, progress, cancellationToken);
        }
        finally
        {
            if (emptyAssets)
            {
                BuildPaths.DeleteTree(assetsSource);
            }
        }

        var layers = new List<(LayerBlob, string)>
        {
            (baseLayer, baseCreatedBy),
            (packagesLayer, entry.Install == InstallMethod.Apt
                ? $"apt-get install --no-install-recommends {string.Join(' ', entry.Packages)}"
                : $"dpkg -x {string.Join(' ', entry.Packages)}" + (entry.Setup is null ? string.Empty : $"; {string.Join(' ', entry.Setup)}")),
            (assetsLayer, $"COPY {Path.GetFileName(entry.AssetsDirectory ?? "(none)")} {entry.AssetsTarget}"),
        };
        return ImageLayout(paths, entry, layers, epoch);
    }

    /// <summary>The minimal Debian image of the embedded default corpus.</summary>
    public static Task<OciLayoutRef> BuildDebianAsync(string? cacheDir = null, Action<string>? progress = null, CancellationToken cancellationToken = default) =>
        BuildDefaultAsync("debian", cacheDir, progress, cancellationToken);

    /// <summary>The busybox-static-only image of the embedded default corpus.</summary>
    public static Task<OciLayoutRef> BuildBusyboxAsync(string? cacheDir = null, Action<string>? progress = null, CancellationToken cancellationToken = default) =>
        BuildDefaultAsync("busybox", cacheDir, progress, cancellationToken);

    /// <summary>Any image of the embedded default corpus (bench/corpus.json as it was when this assembly was built).</summary>
    public static Task<OciLayoutRef> BuildDefaultAsync(string name, string? cacheDir = null, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        cacheDir ??= CacheDirFromEnvironment();
        return BuildAsync(DefaultCorpus.Load(cacheDir)[name], cacheDir, progress, cancellationToken);
    }

    private static async Task<LayerBlob> LayerAsync(
        BuildPaths paths, string treeKey, string source, TreeTarOptions options, string? announce, Action<string>? progress, CancellationToken cancellationToken)
    {
        var key = $"{treeKey}-f{LayerBlobWriter.FormatVersion}";
        if (LayerCache.TryGet(paths, key) is { } cached)
        {
            return cached;
        }

        using var _ = await CacheLock.AcquireAsync(paths.CacheDir, "layer-" + key, progress, cancellationToken);
        return await LayerCache.GetOrWriteAsync(paths, key, async () =>
        {
            if (announce is not null)
            {
                progress?.Invoke(announce);
            }

            return await LayerBlobWriter.WriteAsync(source, options, paths.BlobStore, cancellationToken: cancellationToken);
        });
    }

    private static (string Key, string Source, bool Temporary) AssetsSource(CorpusEntry entry, BuildPaths paths)
    {
        using var key = new CacheKey("assets");
        key.Add(entry.AssetsTarget).Add(Epoch.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        if (entry.AssetsDirectory is { } dir)
        {
            foreach (var file in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                key.Add(Path.GetRelativePath(dir, file));
                if (File.Exists(file))
                {
                    key.AddBytes(File.ReadAllBytes(file));
                }
            }

            return (key.Finish(), dir, false);
        }

        var empty = paths.Scratch("no-assets-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        return (key.Add("(none)").Finish(), empty, true);
    }

    private static OciLayoutRef ImageLayout(BuildPaths paths, CorpusEntry entry, List<(LayerBlob Blob, string CreatedBy)> layers, DateTimeOffset epoch)
    {
        using var key = new CacheKey("image");
        key.Add(entry.Name).Add(Tag).Add(epoch.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))
            .Add(CorpusLayout.FormatVersion.ToString(CultureInfo.InvariantCulture));
        foreach (var (blob, createdBy) in layers)
        {
            key.Add(blob.Digest.ToString()).Add(createdBy);
        }

        var c = entry.Config;
        key.Add(c.Cmd ?? ["(null)"]).Add(c.Entrypoint ?? ["(null)"]).Add(c.Env.Select(kv => kv.Key + "=" + kv.Value))
            .Add(c.WorkingDir).Add(c.User).Add(c.ExposedPorts).Add(c.Labels.Select(kv => kv.Key + "=" + kv.Value));
        var dir = paths.Image(entry.Name, key.Finish());
        var staging = dir + ".tmp-" + Environment.ProcessId;
        BuildPaths.DeleteTree(staging);
        var layout = CorpusLayout.Write(staging, Tag, layers, entry.Config, paths.BlobStore, epoch);
        if (BuildPaths.IsComplete(dir))
        {
            // Same key, same bytes: the existing layout is kept so that readers never see it change.
            BuildPaths.DeleteTree(staging);
            return layout with { Path = dir };
        }

        BuildPaths.MarkComplete(staging);
        BuildPaths.DeleteTree(dir);
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        Directory.Move(staging, dir);
        return layout with { Path = dir };
    }
}
