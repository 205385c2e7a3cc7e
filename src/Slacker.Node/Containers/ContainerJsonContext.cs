using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slacker.Node.Containers;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciSpec))]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(ContainerConfig))]
[JsonSerializable(typeof(ImageRunConfig))]
public sealed partial class ContainerJsonContext : JsonSerializerContext;
