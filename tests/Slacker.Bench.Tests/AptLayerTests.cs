using System.Formats.Tar;
using System.IO.Compression;
using Slacker.Bench.Build;
using Slacker.Bench.Corpus;
using Slacker.Bench.Oci;
using Slacker.Images.Export;

namespace Slacker.Bench.Tests;

/// <summary>The packages layer of an apt entry holds what apt installed, and not apt's lists and caches.</summary>
[Collection(RealSystemCollection.Name)]
public sealed class AptLayerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-apt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Installing_A_Package_Captures_Its_Files_Without_Apt_Lists()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "assets"));
        File.WriteAllText(Path.Combine(_dir, "assets", "note.txt"), "hello package\n");
        var corpus = CorpusFile.Parse("""
            {
              "schema": 1, "suite": "bookworm",
              "images": [
                { "name": "hello-pkg", "category": "test", "packages": ["hello"], "assets": "assets",
                  "config": { "cmd": ["hello"] }, "mode": "echo", "command": ["hello"], "expect": "Hello, world!" }
              ]
            }
            """, _dir, "apt-test.json");

        var image = await CorpusBuilder.BuildAsync(corpus["hello-pkg"], CorpusCache.Dir, CorpusCache.Progress);

        Assert.Equal(3, image.Layers.Count);
        var packages = Entries(image, image.Layers[1]);
        Assert.Contains("usr/bin/hello", packages);
        Assert.Contains(packages, p => p.StartsWith("var/lib/dpkg/info/hello.", StringComparison.Ordinal));
        Assert.DoesNotContain(packages, p => p.StartsWith("var/lib/apt/lists/", StringComparison.Ordinal) && p.Contains('_'));
        Assert.DoesNotContain(packages, p => p.EndsWith(".deb", StringComparison.Ordinal) || p.EndsWith("pkgcache.bin", StringComparison.Ordinal));
        Assert.DoesNotContain("usr/sbin/policy-rc.d", packages);
        Assert.DoesNotContain(packages, p => p.StartsWith("proc/", StringComparison.Ordinal) || p.StartsWith("dev/", StringComparison.Ordinal));
        Assert.Equal(["hello/", "hello/note.txt"], Entries(image, image.Layers[2]));
    }

    private static List<string> Entries(OciLayoutRef image, LayerBlob layer)
    {
        using var file = File.OpenRead(Path.Combine(image.Path, "blobs", "sha256", layer.Digest.Hex));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }
}
