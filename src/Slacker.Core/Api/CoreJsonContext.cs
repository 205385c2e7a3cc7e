using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slacker.Core.Api;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(MissingChunksRequest))]
[JsonSerializable(typeof(MissingChunksResponse))]
[JsonSerializable(typeof(ChunkBatchRequest))]
[JsonSerializable(typeof(CreateVolumeRequest))]
[JsonSerializable(typeof(VolumeInfo))]
[JsonSerializable(typeof(IReadOnlyList<VolumeInfo>))]
[JsonSerializable(typeof(UpdateBlockMapRequest))]
[JsonSerializable(typeof(VolumeBlockMap))]
[JsonSerializable(typeof(CreateSnapshotRequest))]
[JsonSerializable(typeof(SnapshotInfo))]
[JsonSerializable(typeof(IReadOnlyList<SnapshotInfo>))]
[JsonSerializable(typeof(StartupProfile))]
[JsonSerializable(typeof(GcReport))]
[JsonSerializable(typeof(FsckReport))]
[JsonSerializable(typeof(SlackerImageLayer))]
public sealed partial class CoreJsonContext : JsonSerializerContext;
