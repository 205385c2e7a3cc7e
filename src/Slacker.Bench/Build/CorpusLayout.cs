using Slacker.Bench.Corpus;
using Slacker.Bench.Oci;
using Slacker.Core.Api;
using Slacker.Images.Export;
using Slacker.Images.Oci;
using Slacker.Images.Sources;
using Slacker.Native;
using ConfigDocument = Slacker.Images.Oci.ImageConfigDocument;

namespace Slacker.Bench.Build;

/// <summary>Assembles a corpus image's layers and config into an OCI image layout.</summary>
internal static class CorpusLayout
{
    /// <summary>Bumped whenever the same layers and config would give different layout documents; part of the image cache key.</summary>
    public const int FormatVersion = 2;

    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// Writes the layout into <paramref name="layoutDir"/> (which must not exist yet), hard-linking layer blobs
    /// from <paramref name="blobStore"/> so that images sharing a base do not copy it.
    /// </summary>
    public static OciLayoutRef Write(
        string layoutDir,
        string tag,
        IReadOnlyList<(LayerBlob Blob, string CreatedBy)> layers,
        ImageConfigSpec spec,
        string blobStore,
        DateTimeOffset created)
    {
        var blobs = Path.Combine(OciLayoutWriter.BlobStore(layoutDir), "sha256");
        Directory.CreateDirectory(blobs);
        foreach (var (blob, _) in layers)
        {
            LinkOrCopy(Path.Combine(blobStore, "sha256", blob.Digest.Hex), Path.Combine(blobs, blob.Digest.Hex));
        }

        var config = new OciImageConfig
        {
            Created = created,
            Architecture = PlatformSelector.CurrentArchitecture,
            Os = "linux",
            Config = RuntimeConfig(spec),
            RootFs = new OciRootFs { DiffIds = layers.Select(l => l.Blob.DiffId.ToString()).ToList() },
            History = layers.Select(l => new OciHistory { Created = created, CreatedBy = l.CreatedBy }).ToList(),
        };
        var manifest = OciLayoutWriter.Write(
            layoutDir,
            tag,
            ConfigDocument.Serialize(config),
            layers.Select(l => new OciDescriptor { MediaType = MediaTypes.OciLayerTarGzip, Digest = l.Blob.Digest.ToString(), Size = l.Blob.Size }).ToList());
        return new OciLayoutRef(layoutDir, tag) { ManifestDigest = manifest.Digest, Layers = layers.Select(l => l.Blob).ToList() };
    }

    private static OciContainerConfig RuntimeConfig(ImageConfigSpec spec)
    {
        var env = new List<string>();
        if (!spec.Env.ContainsKey("PATH"))
        {
            env.Add("PATH=" + DefaultPath);
        }

        env.AddRange(spec.Env.Select(kv => $"{kv.Key}={kv.Value}"));
        return new OciContainerConfig
        {
            User = spec.User,
            ExposedPorts = spec.ExposedPorts.Count == 0
                ? null
                : new SortedDictionary<string, EmptyObject>(spec.ExposedPorts.ToDictionary(p => p, _ => new EmptyObject()), StringComparer.Ordinal),
            Env = env,
            Entrypoint = spec.Entrypoint?.ToList(),
            Cmd = spec.Cmd?.ToList(),
            WorkingDir = spec.WorkingDir,
            Labels = spec.Labels.Count == 0 ? null : new SortedDictionary<string, string>(spec.Labels.ToDictionary(), StringComparer.Ordinal),
        };
    }

    private static void LinkOrCopy(string source, string destination)
    {
        if (File.Exists(destination))
        {
            return;
        }

        // A hard link when blob store and layout share a file system; a copy otherwise.
        if (!UnixFile.TryHardLink(source, destination))
        {
            File.Copy(source, destination);
        }
    }
}
