namespace Slacker.Bench.Build;

/// <summary>Where each kind of artifact lives in a corpus cache dir.</summary>
internal sealed class BuildPaths(string cacheDir)
{
    public string CacheDir { get; } = Path.GetFullPath(cacheDir);

    public string BlobStore => Path.Combine(CacheDir, "blobs");

    public string Blob(Slacker.Core.Model.Digest digest) => Path.Combine(BlobStore, "sha256", digest.Hex);

    public string LayerRecord(string key) => Path.Combine(CacheDir, "layers", key + ".json");

    public string MinbaseRoot(string key) => Path.Combine(CacheDir, "base", key);

    public string SkeletonRoot(string key) => Path.Combine(CacheDir, "skeleton", key);

    public string Packages(string key) => Path.Combine(CacheDir, "packages", key);

    public string Image(string name, string key) => Path.Combine(CacheDir, "images", $"{name}-{key}");

    public string Scratch(string key) => Path.Combine(CacheDir, "tmp", $"{key}-{Environment.ProcessId}");

    /// <summary>A directory counts as built only once its marker exists; half-built ones are removed and redone.</summary>
    public static bool IsComplete(string dir) => File.Exists(Path.Combine(dir, ".complete"));

    public static void MarkComplete(string dir) => File.WriteAllText(Path.Combine(dir, ".complete"), DateTimeOffset.UtcNow.ToString("O"));

    public static void DeleteTree(string dir)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
