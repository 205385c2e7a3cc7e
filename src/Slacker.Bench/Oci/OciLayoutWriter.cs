using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Slacker.Bench.Corpus;
using Slacker.Bench.Native;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Bench.Oci;

/// <summary>Assembles layers and a config into an OCI image layout (oci-layout, index.json, blobs/sha256).</summary>
public static class OciLayoutWriter
{
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
        var blobs = Path.Combine(layoutDir, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        foreach (var (blob, _) in layers)
        {
            LinkOrCopy(Path.Combine(blobStore, "sha256", blob.Digest.Hex), Path.Combine(blobs, blob.Digest.Hex));
        }

        var createdText = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var config = new OciImageConfig
        {
            Created = createdText,
            Architecture = Architecture(),
            Config = RuntimeConfig(spec),
            RootFs = new OciRootFs { DiffIds = layers.Select(l => l.Blob.DiffId.ToString()).ToList() },
            History = layers.Select(l => new OciHistory { Created = createdText, CreatedBy = l.CreatedBy }).ToList(),
        };
        var configDescriptor = WriteBlob(blobs, MediaTypes.OciConfig, JsonSerializer.SerializeToUtf8Bytes(config, OciJsonContext.Default.OciImageConfig));
        var manifest = new OciManifest
        {
            Config = configDescriptor,
            Layers = layers.Select(l => new OciDescriptor { MediaType = MediaTypes.OciLayerTarGzip, Digest = l.Blob.Digest.ToString(), Size = l.Blob.Size }).ToList(),
        };
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.OciManifest);
        var manifestDescriptor = WriteBlob(blobs, MediaTypes.OciManifest, manifestBytes);
        var index = new OciIndex
        {
            Manifests =
            [
                new OciDescriptor
                {
                    MediaType = MediaTypes.OciManifest,
                    Digest = manifestDescriptor.Digest,
                    Size = manifestDescriptor.Size,
                    Annotations = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["org.opencontainers.image.ref.name"] = tag },
                },
            ],
        };
        File.WriteAllBytes(Path.Combine(layoutDir, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, OciJsonContext.Default.OciIndex));
        File.WriteAllText(Path.Combine(layoutDir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return new OciLayoutRef(layoutDir, tag) { ManifestDigest = manifestDescriptor.Digest, Layers = layers.Select(l => l.Blob).ToList() };
    }

    private static OciRuntimeConfig RuntimeConfig(ImageConfigSpec spec)
    {
        var env = new List<string>();
        if (!spec.Env.ContainsKey("PATH"))
        {
            env.Add("PATH=" + DefaultPath);
        }

        env.AddRange(spec.Env.Select(kv => $"{kv.Key}={kv.Value}"));
        return new OciRuntimeConfig
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

    private static OciDescriptor WriteBlob(string blobs, string mediaType, byte[] content)
    {
        var digest = Digest.Compute(content);
        File.WriteAllBytes(Path.Combine(blobs, digest.Hex), content);
        return new OciDescriptor { MediaType = mediaType, Digest = digest.ToString(), Size = content.Length };
    }

    private static void LinkOrCopy(string source, string destination)
    {
        if (File.Exists(destination))
        {
            return;
        }

        // A hard link when blob store and layout share a file system; a copy otherwise.
        if (LibC.Link(source, destination) != 0)
        {
            File.Copy(source, destination);
        }
    }

    private static string Architecture() => RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        var other => other.ToString().ToLowerInvariant(),
    };
}
