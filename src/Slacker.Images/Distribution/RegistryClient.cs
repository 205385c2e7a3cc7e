using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Oci;

namespace Slacker.Images.Distribution;

/// <summary>
/// A client of the OCI Distribution API for any registry. Anonymous; when the registry challenges with a bearer
/// realm, it fetches an anonymous token for the repository scope and retries, as docker does. Manifests it
/// returns are verified against the digest they were asked by (or that the registry claims).
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private static readonly string ManifestAccept = string.Join(", ",
        MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList);

    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public RegistryClient(Uri baseUri, HttpMessageHandler? handler = null)
    {
        BaseUri = baseUri;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("slacker/1.0");
    }

    public Uri BaseUri { get; }

    public static RegistryClient For(RegistryReference reference, HttpMessageHandler? handler = null) => new(reference.BaseUri, handler);

    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Url("v2/")), null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "ping", cancellationToken).ConfigureAwait(false);
    }

    public async Task<ManifestDocument?> TryGetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url($"v2/{repository}/manifests/{reference}"));
            request.Headers.TryAddWithoutValidation("Accept", ManifestAccept);
            return request;
        }, Scope(repository, "pull"), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, $"manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        var bytes = await ReadLimitedAsync(response.Content, 16 << 20, $"manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        var document = ManifestDocument.Parse(bytes, response.Content.Headers.ContentType?.MediaType);
        var expected = Digest.TryParse(reference, out var asked) ? asked
            : Digest.TryParse(response.Headers.TryGetValues("Docker-Content-Digest", out var v) ? v.FirstOrDefault() : null, out var claimed) ? claimed
            : (Digest?)null;
        if (expected is { } e && e != document.Digest)
        {
            throw new ImageFormatException($"Manifest {repository}:{reference} from {BaseUri} hashes to {document.Digest}, not {e}: the registry sent corrupt or tampered data.");
        }

        return document;
    }

    public async Task<ManifestDocument> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        await TryGetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false)
        ?? throw new RegistryException($"{BaseUri} has no manifest {repository}:{reference}: check the name and tag (tags: slacker images, or the registry's tag list).", HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");

    /// <summary>The raw blob stream; the caller verifies it (see VerifyingReadStream).</summary>
    public async Task<Stream> OpenBlobAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Url($"v2/{repository}/blobs/{digest}")), Scope(repository, "pull"), cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, $"blob {digest} of {repository}", cancellationToken).ConfigureAwait(false);
            return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, Url($"v2/{repository}/blobs/{digest}")), Scope(repository, "pull"), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, $"blob {digest} of {repository}", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Uploads a blob monolithically (POST then PUT) unless the registry already has it.</summary>
    public async Task PushBlobAsync(string repository, Digest digest, long size, Func<Stream> open, CancellationToken cancellationToken = default)
    {
        if (await BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var scope = Scope(repository, "pull,push");
        Uri location;
        using (var start = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, Url($"v2/{repository}/blobs/uploads/")), scope, cancellationToken).ConfigureAwait(false))
        {
            await EnsureSuccessAsync(start, $"starting the upload of {digest} to {repository}", cancellationToken).ConfigureAwait(false);
            location = ResolveLocation(start);
        }

        var separator = location.Query.Length > 0 ? "&" : "?";
        var putUri = new Uri(location + separator + "digest=" + Uri.EscapeDataString(digest.ToString()));
        using var put = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, putUri) { Content = new StreamContent(open()) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.Octets);
            request.Content.Headers.ContentLength = size;
            return request;
        }, scope, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(put, $"uploading {digest} to {repository}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks the registry to link a blob it holds under another repository; false if it started an upload instead.</summary>
    public async Task<bool> TryMountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post,
            Url($"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}")),
            Scope(repository, "pull,push"), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return true;
        }

        await EnsureSuccessAsync(response, $"mounting {digest} into {repository}", cancellationToken).ConfigureAwait(false);
        return false;
    }

    public async Task<Digest> PutManifestAsync(string repository, string reference, byte[] bytes, string mediaType, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, Url($"v2/{repository}/manifests/{reference}")) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return request;
        }, Scope(repository, "pull,push"), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"pushing manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        return Digest.Compute(bytes);
    }

    public async Task DeleteManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, Url($"v2/{repository}/manifests/{reference}")), Scope(repository, "delete"), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"deleting {repository}:{reference}", cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default)
    {
        var tags = new List<string>();
        var next = $"v2/{repository}/tags/list?n=1000";
        while (next is not null)
        {
            var url = Url(next);
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), Scope(repository, "pull"), cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return tags;
            }

            await EnsureSuccessAsync(response, $"tags of {repository}", cancellationToken).ConfigureAwait(false);
            var list = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), ImagesJsonContext.Default.TagList, cancellationToken).ConfigureAwait(false);
            tags.AddRange(list?.Tags ?? []);
            next = NextLink(response);
        }

        return tags;
    }

    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(CancellationToken cancellationToken = default)
    {
        var repositories = new List<string>();
        var next = "v2/_catalog?n=1000";
        while (next is not null)
        {
            var url = Url(next);
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), "registry:catalog:*", cancellationToken).ConfigureAwait(false);
            await EnsureSuccessAsync(response, "the catalog", cancellationToken).ConfigureAwait(false);
            var catalog = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), ImagesJsonContext.Default.Catalog, cancellationToken).ConfigureAwait(false);
            repositories.AddRange(catalog?.Repositories ?? []);
            next = NextLink(response);
        }

        return repositories;
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links)
        {
            var start = link.IndexOf('<', StringComparison.Ordinal);
            var end = link.IndexOf('>', StringComparison.Ordinal);
            if (start >= 0 && end > start && link.Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                return link[(start + 1)..end].TrimStart('/');
            }
        }

        return null;
    }

    private Uri Url(string relative) => new(BaseUri, relative);

    private Uri ResolveLocation(HttpResponseMessage response)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException($"{BaseUri} started an upload without a Location header; it does not follow the distribution spec.", response.StatusCode);
        return location.IsAbsoluteUri ? location : new Uri(BaseUri, location);
    }

    private static string Scope(string repository, string actions) => $"repository:{repository}:{actions}";

    /// <summary>Sends a request; on a bearer challenge fetches an anonymous token for the scope and sends it again.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, string? scope, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var key = scope ?? "";
        for (var attempt = 0; ; attempt++)
        {
            using var request = make();
            if (_tokens.TryGetValue(key, out var token))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new RegistryException($"Cannot reach the registry at {BaseUri} ({e.Message}). Is it running? For a registry without TLS pass --insecure.", HttpStatusCode.ServiceUnavailable, null, e);
            }

            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                return response;
            }

            var challenge = BearerChallenge.TryParse(response.Headers.WwwAuthenticate.FirstOrDefault()?.ToString());
            if (challenge is null)
            {
                return response;
            }

            response.Dispose();
            _tokens[key] = await FetchTokenAsync(challenge, scope ?? challenge.Scope, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> FetchTokenAsync(BearerChallenge challenge, string? scope, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (challenge.Service is not null)
        {
            query.Add("service=" + Uri.EscapeDataString(challenge.Service));
        }

        if (scope is not null)
        {
            query.Add("scope=" + Uri.EscapeDataString(scope));
        }

        var realm = challenge.Realm + (query.Count == 0 ? "" : (challenge.Realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', query));
        using var response = await _http.GetAsync(new Uri(realm), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new RegistryException($"The token service {challenge.Realm} refused anonymous access ({(int)response.StatusCode}) for {scope}: the repository is private or does not exist; slacker speaks to registries anonymously.", response.StatusCode, "UNAUTHORIZED");
        }

        var body = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), ImagesJsonContext.Default.TokenResponse, cancellationToken).ConfigureAwait(false);
        return body?.Token ?? body?.AccessToken
            ?? throw new RegistryException($"The token service {challenge.Realm} answered without a token.", response.StatusCode, "UNAUTHORIZED");
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? code = null;
        var detail = "";
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (text.Length > 0 && text.TrimStart().StartsWith('{'))
            {
                var body = JsonSerializer.Deserialize(text, ImagesJsonContext.Default.RegistryErrorBody);
                if (body?.Errors is { Count: > 0 } errors)
                {
                    code = errors[0].Code;
                    detail = ": " + string.Join("; ", errors.Select(e => $"{e.Code} {e.Message}"));
                }
            }
        }
        catch (JsonException)
        {
            // A non-JSON error page; the status code alone is reported.
        }

        throw new RegistryException($"{BaseUri} refused {what} with {(int)response.StatusCode} {response.ReasonPhrase}{detail}", response.StatusCode, code);
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, string what, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            throw new ImageFormatException($"{what} is {content.Headers.ContentLength} bytes; documents over {limit} bytes are refused.");
        }

        var bytes = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return bytes.Length > limit ? throw new ImageFormatException($"{what} is over {limit} bytes; refused.") : bytes;
    }

    public void Dispose() => _http.Dispose();
}
