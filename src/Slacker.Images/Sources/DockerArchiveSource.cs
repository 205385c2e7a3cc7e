using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Oci;

namespace Slacker.Images.Sources;

/// <summary>
/// A <c>docker save</c> tarball: manifest.json naming a config and layer tars, either the legacy layout
/// (ID/layer.tar, ID.json) or docker 25's OCI-in-docker-archive (blobs/sha256/HEX, with LayerSources).
/// The tarball is indexed once; members are then read in place, never extracted.
/// </summary>
public sealed class DockerArchiveSource : IImageSource
{
    private readonly string _path;
    private readonly string? _reference;
    private readonly Dictionary<string, (long Offset, long Size)> _members;
    private readonly Dictionary<string, (long Offset, long Size)> _blobs = new(StringComparer.Ordinal);
    private readonly string? _decompressedCopy;

    private DockerArchiveSource(string path, string? reference, Dictionary<string, (long, long)> members, string? decompressedCopy)
    {
        _path = path;
        _reference = reference;
        _members = members;
        _decompressedCopy = decompressedCopy;
        Description = "docker-archive:" + path + (reference is null ? "" : ":" + reference);
    }

    public string Description { get; }

    public static DockerArchiveSource Open(string path, string? reference, ImageSourceOptions options)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"docker-archive:{path}: no such file. Create it with 'docker save -o {path} IMAGE'.", path);
        }

        string? copy = null;
        var tarPath = path;
        if (IsGzip(path))
        {
            // docker load accepts gzipped archives; random access needs the plain tar, so unpack it once.
            copy = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "slacker-archive-" + Guid.NewGuid().ToString("N") + ".tar");
            using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var output = File.Create(copy);
            input.CopyTo(output);
            tarPath = copy;
        }

        try
        {
            return new DockerArchiveSource(tarPath, reference, IndexMembers(tarPath, path), copy);
        }
        catch
        {
            if (copy is not null)
            {
                File.Delete(copy);
            }

            throw;
        }
    }

    private static bool IsGzip(string path)
    {
        Span<byte> magic = stackalloc byte[2];
        using var f = File.OpenRead(path);
        return f.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static Dictionary<string, (long, long)> IndexMembers(string tarPath, string shownPath)
    {
        var members = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        using var file = File.OpenRead(tarPath);
        try
        {
            using var reader = new TarReader(file);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    members[Normalize(entry.Name)] = (entry.DataOffset, entry.Length);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ImageFormatException($"docker-archive:{shownPath} is not a readable tar file ({e.Message}). Save the image again with 'docker save'.", e);
        }

        return members;
    }

    private static string Normalize(string name) => name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;

    public async Task<SourceImage> ResolveAsync(CancellationToken cancellationToken = default)
    {
        var manifestBytes = await ReadMemberAsync("manifest.json", 16 << 20, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<DockerArchiveEntry> entries;
        try
        {
            entries = JsonSerializer.Deserialize(manifestBytes, ImagesJsonContext.Default.IReadOnlyListDockerArchiveEntry) ?? [];
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"{Description}: manifest.json is malformed ({e.Message}).", e);
        }

        var entry = Select(entries);
        var configBytes = await ReadMemberAsync(entry.Config, 64 << 20, cancellationToken).ConfigureAwait(false);
        var config = ImageConfigDocument.Parse(configBytes);
        var configHex = Path.GetFileName(entry.Config).Replace(".json", "", StringComparison.Ordinal);
        if (configHex.Length == 64 && "sha256:" + configHex != config.Digest.ToString())
        {
            throw new ImageFormatException($"{Description}: config {entry.Config} hashes to {config.Digest}, not to the id in its name; the archive is corrupt or was tampered with.");
        }

        var diffIds = config.DiffIds;
        if (diffIds.Count != entry.Layers.Count)
        {
            throw new ImageFormatException($"{Description}: manifest.json lists {entry.Layers.Count} layers but the config has {diffIds.Count} diff_ids.");
        }

        var layers = new List<OciDescriptor>();
        for (var i = 0; i < entry.Layers.Count; i++)
        {
            var member = Normalize(entry.Layers[i]);
            if (!_members.TryGetValue(member, out var location))
            {
                throw new ImageFormatException($"{Description}: layer {i} '{member}' named by manifest.json is not in the archive.");
            }

            var descriptor = entry.LayerSources?.GetValueOrDefault(entry.Layers[i]) ?? new OciDescriptor
            {
                MediaType = ImageMediaTypes.DockerLayerTar,
                Digest = diffIds[i].ToString(),
                Size = location.Size,
            };
            ManifestDocument.ValidateDescriptor(descriptor, $"layer {member}");
            if (descriptor.Size != location.Size)
            {
                throw new ImageFormatException($"{Description}: layer '{member}' is {location.Size} bytes but LayerSources says {descriptor.Size}.");
            }

            _blobs[descriptor.Digest] = location;
            layers.Add(descriptor);
        }

        var manifest = new OciManifest
        {
            MediaType = MediaTypes.DockerManifest,
            Config = new OciDescriptor { MediaType = MediaTypes.DockerConfig, Digest = config.Digest.ToString(), Size = configBytes.Length },
            Layers = layers,
        };
        var document = ManifestDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(manifest, ImagesJsonContext.Default.OciManifest));
        return new SourceImage(document, config) { SourceTags = entry.RepoTags ?? [] };
    }

    private DockerArchiveEntry Select(IReadOnlyList<DockerArchiveEntry> entries)
    {
        if (entries.Count == 0)
        {
            throw new ImageFormatException($"{Description}: manifest.json lists no image.");
        }

        if (_reference is null)
        {
            return entries.Count == 1
                ? entries[0]
                : throw new ImageFormatException($"{Description} holds {entries.Count} images: say which, e.g. docker-archive:{_path}:{entries.SelectMany(e => e.RepoTags ?? []).FirstOrDefault() ?? "@0"}.");
        }

        if (_reference.StartsWith('@') && int.TryParse(_reference.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            return index >= 0 && index < entries.Count
                ? entries[index]
                : throw new ImageFormatException($"{Description}: there is no image @{index}; the archive holds {entries.Count}.");
        }

        return entries.FirstOrDefault(e => e.RepoTags?.Any(t => t == _reference || t == "docker.io/" + _reference || t == _reference + ":latest") == true)
            ?? throw new ImageFormatException($"{Description}: no image is tagged '{_reference}'; the archive has {string.Join(", ", entries.SelectMany(e => e.RepoTags ?? []))}.");
    }

    private async Task<byte[]> ReadMemberAsync(string name, int limit, CancellationToken cancellationToken)
    {
        if (!_members.TryGetValue(Normalize(name), out var location))
        {
            throw new ImageFormatException($"{Description}: '{name}' is missing from the archive; it is not a docker save tarball.");
        }

        if (location.Size > limit)
        {
            throw new ImageFormatException($"{Description}: '{name}' is {location.Size} bytes, more than the {limit} allowed for a JSON document.");
        }

        var bytes = new byte[location.Size];
        using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        await RandomAccess.ReadAsync(file.SafeFileHandle, bytes, location.Offset, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    public Task<Stream> OpenBlobAsync(OciDescriptor descriptor, CancellationToken cancellationToken = default)
    {
        if (!_blobs.TryGetValue(descriptor.Digest, out var location))
        {
            throw new ImageFormatException($"{Description}: blob {descriptor.Digest} is not part of the resolved image.");
        }

        var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        file.Position = location.Offset;
        var slice = new BoundedReadStream(file, location.Size);
        return Task.FromResult<Stream>(new VerifyingReadStream(slice, Digest.Parse(descriptor.Digest), descriptor.Size, $"{Description} blob {descriptor.Digest}"));
    }

    public ValueTask DisposeAsync()
    {
        if (_decompressedCopy is not null)
        {
            File.Delete(_decompressedCopy);
        }

        return ValueTask.CompletedTask;
    }
}
