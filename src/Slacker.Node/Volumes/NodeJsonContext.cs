using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slacker.Node.Volumes;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(VolumeState))]
[JsonSerializable(typeof(VolumeStatsSnapshot))]
internal sealed partial class NodeJsonContext : JsonSerializerContext;
