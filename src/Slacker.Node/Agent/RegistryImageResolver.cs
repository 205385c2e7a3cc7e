using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

/// <summary>
/// Resolves images through the server's OCI registry (/v2): a Slacker image is a manifest whose single layer names
/// a snapshot, so "pulling" it is reading two small documents. Commit records the new image there too.
/// </summary>
public sealed class RegistryImageResolver(HttpClient http) : IImageResolver
{
    private const string ManifestAccept = MediaTypes.OciManifest + ", " + MediaTypes.DockerManifest;

    public async Task<ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        var (repository, tag) = Split(reference);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd(ManifestAccept);
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ContainerException(ContainerErrors.ImageUnknown,
                $"No such image: '{reference}'. Import it first ('slacker import ...'), or check the name with 'slacker images'.");
        }

        await EnsureSuccessAsync(response, $"reading the manifest of '{reference}'");
        var manifestBytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        using var manifest = JsonDocument.Parse(manifestBytes);
        var root = manifest.RootElement;
        if (!root.TryGetProperty("layers", out var layers) || layers.GetArrayLength() != 1
            || layers[0].GetProperty("mediaType").GetString() != SlackerImageLayer.MediaType)
        {
            throw new ContainerException(ContainerErrors.ImageUnknown,
                $"'{reference}' is a standard OCI image, not a Slacker image; convert it first ('slacker convert {reference}').");
        }

        var layerBytes = await GetBlobAsync(repository, layers[0].GetProperty("digest").GetString()!, cancellationToken);
        var layer = JsonSerializer.Deserialize(layerBytes, CoreJsonContext.Default.SlackerImageLayer)
            ?? throw new ContainerException(ContainerErrors.ImageUnknown, $"The Slacker layer of '{reference}' is empty.");
        var configBytes = await GetBlobAsync(repository, root.GetProperty("config").GetProperty("digest").GetString()!, cancellationToken);
        var imageId = Digest.Compute(manifestBytes).ToString();
        return new ResolvedImage(reference, imageId, layer.Snapshot, layer.Size, layer.ChunkSize, ImageRunConfig.Parse(configBytes), configBytes);
    }

    public async Task<string> RecordCommitAsync(string reference, ResolvedImage parent, string snapshot, CancellationToken cancellationToken)
    {
        var (repository, tag) = Split(reference);
        var layer = JsonSerializer.SerializeToUtf8Bytes(
            new SlackerImageLayer(snapshot, parent.ChunkSize, parent.Size), CoreJsonContext.Default.SlackerImageLayer);
        var layerDigest = await PutBlobAsync(repository, layer, cancellationToken);
        var configDigest = await PutBlobAsync(repository, parent.ConfigJson, cancellationToken);
        var manifest = Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","artifactType":"{{SlackerImageLayer.ArtifactType}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{configDigest}}","size":{{parent.ConfigJson.Length}}},"layers":[{"mediaType":"{{SlackerImageLayer.MediaType}}","digest":"{{layerDigest}}","size":{{layer.Length}}}]}""");
        using var request = new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(manifest) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, $"recording image '{reference}'");
        return Digest.Compute(manifest).ToString();
    }

    private async Task<byte[]> GetBlobAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{digest}");
        using var response = await SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, $"reading blob {digest} of '{repository}'");
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!Digest.TryParse(digest, out var expected) || !expected.Matches(bytes))
        {
            throw new ContainerException(ContainerErrors.ServerUnreachable, $"Blob {digest} of '{repository}' does not match its digest.");
        }

        return bytes;
    }

    private async Task<string> PutBlobAsync(string repository, byte[] bytes, CancellationToken cancellationToken)
    {
        var digest = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/?digest=sha256:{digest}")
        {
            Content = new ByteArrayContent(bytes),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.Octets);
        using var response = await SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, $"uploading a blob to '{repository}'");
        return "sha256:" + digest;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ContainerException(ContainerErrors.ServerUnreachable,
                $"Cannot reach the Slacker server at {http.BaseAddress}: {e.Message}. Start it ('slacker server') or give the node its address (slacker node --server URL).", e);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new ContainerException(ContainerErrors.ServerUnreachable,
                $"The server refused {what}: HTTP {(int)response.StatusCode} {body.Trim()}");
        }
    }

    /// <summary>"name[:tag]" -> (repository, tag); the tag defaults to latest as in docker.</summary>
    public static (string Repository, string Tag) Split(string reference)
    {
        var slash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        var (repository, tag) = colon > slash ? (reference[..colon], reference[(colon + 1)..]) : (reference, "latest");
        if (repository.Length == 0 || tag.Length == 0 || reference.Contains('@', StringComparison.Ordinal)
            || !repository.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '/'))
        {
            throw new ContainerException(ContainerErrors.BadRequest,
                $"'{reference}' is not an image reference: write NAME[:TAG] with a lowercase name, e.g. debian:12.");
        }

        return (repository, tag);
    }
}
