using System.Text.Json.Serialization;

namespace Slacker.Images.Oci;

/// <summary>One image in a <c>docker save</c> tarball's manifest.json.</summary>
public sealed record DockerArchiveEntry
{
    [JsonPropertyName("Config")]
    public string Config { get; init; } = "";

    [JsonPropertyName("RepoTags")]
    public IReadOnlyList<string>? RepoTags { get; init; }

    [JsonPropertyName("Layers")]
    public IReadOnlyList<string> Layers { get; init; } = [];

    /// <summary>Docker 25+: the layer media types and sizes keyed by layer path (OCI-in-docker-archive layout).</summary>
    [JsonPropertyName("LayerSources")]
    public IReadOnlyDictionary<string, OciDescriptor>? LayerSources { get; init; }
}

/// <summary>The <c>oci-layout</c> marker file of an OCI image layout directory.</summary>
public sealed record OciLayoutMarker
{
    public const string CurrentVersion = "1.0.0";

    [JsonPropertyName("imageLayoutVersion")]
    public string ImageLayoutVersion { get; init; } = CurrentVersion;
}
