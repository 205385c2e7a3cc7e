using System.Reflection;
using System.Security.Cryptography;

namespace Slacker.Bench.Corpus;

/// <summary>
/// The repository's bench/corpus.json and bench/assets, embedded in this assembly. Callers that are not
/// running from a checkout (other projects' tests, the quickstart) get the same corpus by materializing it.
/// </summary>
public static class DefaultCorpus
{
    private const string Prefix = "corpus/";

    /// <summary>Writes the embedded corpus under <paramref name="cacheDir"/> (once per content) and loads it.</summary>
    public static CorpusFile Load(string cacheDir)
    {
        var assembly = typeof(DefaultCorpus).Assembly;
        var names = assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var contents = names.ToDictionary(n => n, n => Read(assembly, n), StringComparer.Ordinal);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in names)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name + "\n"));
            hash.AppendData(contents[name]);
        }

        var key = Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
        var root = Path.Combine(cacheDir, "corpus-src", key);
        if (!File.Exists(Path.Combine(root, ".complete")))
        {
            var staging = root + ".tmp-" + Environment.ProcessId;
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            foreach (var name in names)
            {
                var path = Path.Combine(staging, name[Prefix.Length..]);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, contents[name]);
            }

            File.WriteAllText(Path.Combine(staging, ".complete"), key);
            try
            {
                Directory.Move(staging, root);
            }
            catch (IOException) when (File.Exists(Path.Combine(root, ".complete")))
            {
                // Another process materialized the same content first; theirs is identical.
                Directory.Delete(staging, recursive: true);
            }
        }

        return CorpusFile.Load(Path.Combine(root, "corpus.json"));
    }

    /// <summary>bench/corpus.json of the checkout that contains the working directory, if there is one.</summary>
    public static string? FindInCheckout(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "bench", "corpus.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
