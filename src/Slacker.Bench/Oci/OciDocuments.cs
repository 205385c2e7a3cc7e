using System.Text.Json.Serialization;

namespace Slacker.Bench.Oci;

// OCI image-spec documents, only as far as the corpus builder writes and the drivers read them.

internal sealed class OciDescriptor
{
    public required string MediaType { get; init; }
    public required string Digest { get; init; }
    public required long Size { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SortedDictionary<string, string>? Annotations { get; init; }
}

internal sealed class OciIndex
{
    public int SchemaVersion { get; init; } = 2;
    public string MediaType { get; init; } = Slacker.Core.Api.MediaTypes.OciIndex;
    public required List<OciDescriptor> Manifests { get; init; }
}

internal sealed class OciManifest
{
    public int SchemaVersion { get; init; } = 2;
    public string MediaType { get; init; } = Slacker.Core.Api.MediaTypes.OciManifest;
    public required OciDescriptor Config { get; init; }
    public required List<OciDescriptor> Layers { get; init; }
}

internal sealed class OciImageConfig
{
    [JsonPropertyName("created")]
    public required string Created { get; init; }

    [JsonPropertyName("architecture")]
    public required string Architecture { get; init; }

    [JsonPropertyName("os")]
    public string Os { get; init; } = "linux";

    [JsonPropertyName("config")]
    public required OciRuntimeConfig Config { get; init; }

    [JsonPropertyName("rootfs")]
    public required OciRootFs RootFs { get; init; }

    [JsonPropertyName("history")]
    public required List<OciHistory> History { get; init; }
}

internal sealed class OciRuntimeConfig
{
    [JsonPropertyName("User")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? User { get; init; }

    [JsonPropertyName("ExposedPorts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SortedDictionary<string, EmptyObject>? ExposedPorts { get; init; }

    [JsonPropertyName("Env")]
    public required List<string> Env { get; init; }

    [JsonPropertyName("Entrypoint")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Entrypoint { get; init; }

    [JsonPropertyName("Cmd")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Cmd { get; init; }

    [JsonPropertyName("WorkingDir")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkingDir { get; init; }

    [JsonPropertyName("Labels")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SortedDictionary<string, string>? Labels { get; init; }
}

internal sealed class EmptyObject;

internal sealed class OciRootFs
{
    [JsonPropertyName("type")]
    public string Type { get; init; } = "layers";

    [JsonPropertyName("diff_ids")]
    public required List<string> DiffIds { get; init; }
}

internal sealed class OciHistory
{
    [JsonPropertyName("created")]
    public required string Created { get; init; }

    [JsonPropertyName("created_by")]
    public required string CreatedBy { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(OciIndex))]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(OciImageConfig))]
[JsonSerializable(typeof(LayerBlobRecord))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>The on-disk form of a cached <see cref="LayerBlob"/>.</summary>
internal sealed class LayerBlobRecord
{
    public required string Digest { get; init; }
    public required string DiffId { get; init; }
    public required long Size { get; init; }
    public required long UncompressedSize { get; init; }
    public required int Entries { get; init; }
}
