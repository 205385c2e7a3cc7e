using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Oci;

namespace Slacker.Images.Tests.Support;

/// <summary>A standard image made in the test: layer tars, a config, and writers for the OCI layout and docker-archive forms.</summary>
public sealed class TestImage
{
    public TestImage(params byte[][] layerTars) => LayerTars = layerTars;

    public IReadOnlyList<byte[]> LayerTars { get; }

    public OciContainerConfig RunConfig { get; init; } = new()
    {
        Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello"],
        Cmd = ["/bin/sh"],
        WorkingDir = "/",
        Labels = new Dictionary<string, string> { ["org.example.test"] = "yes" },
    };

    public DateTimeOffset Created { get; init; } = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    public byte[] ConfigBytes => ImageConfigDocument.Serialize(new OciImageConfig
    {
        Created = Created,
        Architecture = Sources.PlatformSelector.Current.Split('/')[1],
        Os = "linux",
        Config = RunConfig,
        RootFs = new OciRootFs { DiffIds = LayerTars.Select(t => Digest.Compute(t).ToString()).ToList() },
        History = LayerTars.Select((_, i) => new OciHistory { Created = Created, CreatedBy = $"layer {i}" }).ToList(),
    });

    /// <summary>Writes an OCI image layout with gzip layers, tagged <paramref name="tag"/>.</summary>
    public string WriteOciLayout(string directory, string tag = "latest", bool gzip = true)
    {
        var layers = LayerTars.Select(t => gzip
            ? OciLayoutWriter.WriteBlob(directory, MediaTypes.OciLayerTarGzip, Compress.Gzip(t))
            : OciLayoutWriter.WriteBlob(directory, MediaTypes.OciLayerTar, t)).ToList();
        OciLayoutWriter.Write(directory, tag, ConfigBytes, layers);
        return directory;
    }

    /// <summary>Writes a legacy `docker save` tarball (ID/layer.tar, HEX.json, manifest.json) that docker load accepts.</summary>
    public string WriteDockerArchive(string path, string repoTag)
    {
        var config = ConfigBytes;
        var configName = Digest.Compute(config).Hex + ".json";
        var layerNames = LayerTars.Select(t => Digest.Compute(t).Hex + "/layer.tar").ToList();
        var manifest = JsonSerializer.SerializeToUtf8Bytes<IReadOnlyList<DockerArchiveEntry>>(
            [new DockerArchiveEntry { Config = configName, RepoTags = [repoTag], Layers = layerNames }], ImagesJsonContext.Default.IReadOnlyListDockerArchiveEntry);
        using var file = File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        Add(writer, configName, config);
        for (var i = 0; i < LayerTars.Count; i++)
        {
            Add(writer, layerNames[i], LayerTars[i]);
        }

        Add(writer, "manifest.json", manifest);
        return path;
    }

    private static void Add(TarWriter writer, string name, byte[] data) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] Gunzip(byte[] data)
    {
        using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        var output = new MemoryStream();
        gz.CopyTo(output);
        return output.ToArray();
    }
}
