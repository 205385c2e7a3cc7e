using System.Text.Json.Serialization;

namespace Slacker.Images.Oci;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(OciIndex))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(OciImageConfig))]
[JsonSerializable(typeof(IReadOnlyList<DockerArchiveEntry>))]
[JsonSerializable(typeof(OciLayoutMarker))]
[JsonSerializable(typeof(RegistryErrorBody))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(TagList))]
[JsonSerializable(typeof(Catalog))]
public sealed partial class ImagesJsonContext : JsonSerializerContext;
