using System.Text.Json.Serialization;

namespace Slacker.Images.Oci;

// The small JSON documents of the OCI Distribution API (v1.1) that both the client and the server speak.

public sealed record RegistryError
{
    [JsonPropertyName("code")]
    public string Code { get; init; } = "";

    [JsonPropertyName("message")]
    public string Message { get; init; } = "";

    [JsonPropertyName("detail")]
    public string? Detail { get; init; }
}

public sealed record RegistryErrorBody
{
    [JsonPropertyName("errors")]
    public IReadOnlyList<RegistryError> Errors { get; init; } = [];
}

/// <summary>The answer of a bearer-token realm (docker's token auth): either field may carry the token.</summary>
public sealed record TokenResponse
{
    [JsonPropertyName("token")]
    public string? Token { get; init; }

    [JsonPropertyName("access_token")]
    public string? AccessToken { get; init; }
}

public sealed record TagList
{
    [JsonPropertyName("name")]
    public string Name { get; init; } = "";

    [JsonPropertyName("tags")]
    public IReadOnlyList<string> Tags { get; init; } = [];
}

public sealed record Catalog
{
    [JsonPropertyName("repositories")]
    public IReadOnlyList<string> Repositories { get; init; } = [];
}
