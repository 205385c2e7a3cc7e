using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slacker.Core.Storage;

/// <summary>
/// The `--config` file of `slacker server` and `slacker fsck`: where metadata and chunks live, and the S3 keys
/// (kept out of the command line, where every user of the host could read them in /proc).
/// </summary>
public sealed record StoreConfig
{
    /// <summary>A SQLite path or a postgres:// URI.</summary>
    public string? Metadata { get; init; }

    /// <summary>A directory or an s3://bucket?endpoint=... location.</summary>
    public string? Chunks { get; init; }

    public string? S3AccessKey { get; init; }

    public string? S3SecretKey { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(StoreConfig))]
public sealed partial class StoreConfigJson : JsonSerializerContext;
