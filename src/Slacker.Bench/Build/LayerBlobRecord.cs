using System.Text.Json.Serialization;

namespace Slacker.Bench.Build;

/// <summary>The on-disk form of a cached <see cref="Slacker.Images.Export.LayerBlob"/>.</summary>
internal sealed record LayerBlobRecord(string Digest, string DiffId, long Size, long UncompressedSize, int Entries);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LayerBlobRecord))]
internal sealed partial class LayerCacheJsonContext : JsonSerializerContext;
