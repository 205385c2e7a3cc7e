using System.Text.Json.Serialization;

namespace Slacker.Bench.Corpus;

// The wire shape of corpus.json. Everything is nullable here so that validation, not the
// deserializer, decides what is missing and says so by field name.

internal sealed class CorpusDocument
{
    public int? Schema { get; set; }
    public string? Suite { get; set; }
    public List<CorpusEntryDocument?>? Images { get; set; }
}

internal sealed class CorpusEntryDocument
{
    public string? Name { get; set; }
    public string? Category { get; set; }
    public string? Base { get; set; }
    public List<string?>? Packages { get; set; }
    public string? Install { get; set; }
    public List<string?>? Setup { get; set; }
    public string? Assets { get; set; }
    public string? AssetsTarget { get; set; }
    public ImageConfigDocument? Config { get; set; }
    public string? Mode { get; set; }
    public List<string?>? Command { get; set; }
    public string? Stdin { get; set; }
    public string? Expect { get; set; }
    public string? Marker { get; set; }
    public int? Port { get; set; }
    public string? HttpPath { get; set; }
    public Dictionary<string, string?>? Env { get; set; }
    public List<MountDocument?>? Mounts { get; set; }
    public int? TimeoutSeconds { get; set; }
    public ParityDocument? Parity { get; set; }
}

internal sealed class ParityDocument
{
    public string? Probe { get; set; }
    public List<string?>? Prepare { get; set; }
    public List<string?>? Client { get; set; }
    public string? Metric { get; set; }
    public string? Unit { get; set; }
}

internal sealed class ImageConfigDocument
{
    public List<string?>? Cmd { get; set; }
    public List<string?>? Entrypoint { get; set; }
    public Dictionary<string, string?>? Env { get; set; }
    public string? WorkingDir { get; set; }
    public string? User { get; set; }
    public List<string?>? ExposedPorts { get; set; }
    public Dictionary<string, string?>? Labels { get; set; }
}

internal sealed class MountDocument
{
    public string? Source { get; set; }
    public string? Target { get; set; }
    public bool? ReadOnly { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(CorpusDocument))]
internal sealed partial class CorpusJsonContext : JsonSerializerContext;
