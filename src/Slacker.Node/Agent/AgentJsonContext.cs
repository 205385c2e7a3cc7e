using System.Text.Json;
using System.Text.Json.Serialization;
using Slacker.Core.Api;
using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(NodeInfo))]
[JsonSerializable(typeof(ContainerConfig))]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(IReadOnlyList<ContainerRecord>))]
[JsonSerializable(typeof(WaitResponse))]
[JsonSerializable(typeof(CommitRequest))]
[JsonSerializable(typeof(CommitResponse))]
[JsonSerializable(typeof(ContainerStats))]
[JsonSerializable(typeof(PruneCacheResponse))]
[JsonSerializable(typeof(ResolvedImage))]
[JsonSerializable(typeof(Slacker.Node.Volumes.VolumeStatsSnapshot))]
public sealed partial class AgentJsonContext : JsonSerializerContext;
