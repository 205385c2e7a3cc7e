using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Http;

/// <summary>Reading what clients send: JSON bodies and digests, each failure as the API error that names it.</summary>
public static class RequestReader
{
    /// <summary>Parses a JSON body with the source-generated contract; malformed or empty JSON is JSON_INVALID.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(request.Body, type, ct)
                ?? throw BlockStoreErrors.JsonInvalid("the document is null");
        }
        catch (JsonException e)
        {
            throw BlockStoreErrors.JsonInvalid(e.Message);
        }
    }

    /// <summary>Like <see cref="ReadJsonAsync{T}"/>, but an empty body gives <paramref name="whenEmpty"/>.</summary>
    public static async Task<T> ReadOptionalJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> type, T whenEmpty, CancellationToken ct)
        where T : class
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0))
        {
            return whenEmpty;
        }

        return await ReadJsonAsync(request, type, ct);
    }

    public static Digest ParseDigest(string? text, string what = "digest") =>
        Digest.TryParse(text, out var digest) ? digest : throw BlockStoreErrors.DigestInvalid(text, what);

    public static Digest[] ParseDigests(IReadOnlyList<string?>? texts, string field, int limit)
    {
        if (texts is null)
        {
            throw BlockStoreErrors.JsonInvalid($"the '{field}' array is missing");
        }

        if (texts.Count > limit)
        {
            throw BlockStoreErrors.TooMany(field, texts.Count, limit);
        }

        var digests = new Digest[texts.Count];
        for (var i = 0; i < digests.Length; i++)
        {
            digests[i] = ParseDigest(texts[i], $"{field}[{i}]");
        }

        return digests;
    }
}
