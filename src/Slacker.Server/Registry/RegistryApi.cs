using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Core.Storage;
using Slacker.Images.Distribution;
using Slacker.Images.Oci;
using Slacker.Server.Storage;

namespace Slacker.Server.Registry;

/// <summary>
/// The OCI Distribution API v1.1 (pull, push, content discovery, content management) over the server's stores.
/// One catch-all route dispatches here because repository names contain slashes.
/// </summary>
public sealed class RegistryApi
{
    public const long MaxManifestBytes = 4 << 20;
    public const long MaxBlobBytes = 1L << 40;
    private const int DefaultPageSize = 1000;

    private readonly ServerStores _stores;
    private readonly RegistryStore _registry;
    private readonly RegistryReferences _references;
    private readonly BlobUploads _uploads;

    public RegistryApi(ServerStores stores, RegistryStore registry)
    {
        _stores = stores;
        _registry = registry;
        _references = new RegistryReferences(stores.Metadata, stores.Chunks);
        _uploads = new BlobUploads(stores.Uploads, registry);
    }

    public async Task HandleAsync(HttpContext context, string path)
    {
        context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        try
        {
            var route = RegistryRoute.Parse(path) ?? throw new RegistryApiException(404, "NAME_UNKNOWN", $"/v2/{path} is not an OCI distribution endpoint.");
            if (route.Kind is not (RegistryRouteKind.Ping or RegistryRouteKind.Catalog) && !RepositoryName.IsValid(route.Repository))
            {
                throw RegistryApiException.NameInvalid(route.Repository);
            }

            await DispatchAsync(context, route);
        }
        catch (RegistryApiException e)
        {
            await WriteErrorAsync(context, e.Status, e.Code, e.Message, e.Detail);
        }
        catch (DigestMismatchException e)
        {
            await WriteErrorAsync(context, 400, "DIGEST_INVALID", $"the uploaded content does not hash to the digest given: {e.Message}", null);
        }
        catch (ObjectTooLargeException e)
        {
            await WriteErrorAsync(context, 413, "SIZE_INVALID", e.Message, null);
        }
    }

    private Task DispatchAsync(HttpContext context, RegistryRoute route)
    {
        var method = context.Request.Method;
        return (route.Kind, method) switch
        {
            (RegistryRouteKind.Ping, "GET" or "HEAD") => WriteJsonAsync(context, 200, "{}"u8.ToArray()),
            (RegistryRouteKind.Catalog, "GET") => CatalogAsync(context),
            (RegistryRouteKind.Tags, "GET") => TagsAsync(context, route.Repository),
            (RegistryRouteKind.Manifest, "GET" or "HEAD") => GetManifestAsync(context, route.Repository, route.Argument, method == "HEAD"),
            (RegistryRouteKind.Manifest, "PUT") => PutManifestAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.Manifest, "DELETE") => DeleteManifestAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.Blob, "GET" or "HEAD") => GetBlobAsync(context, route.Repository, route.Argument, method == "HEAD"),
            (RegistryRouteKind.Blob, "DELETE") => DeleteBlobAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.UploadStart, "POST") => StartUploadAsync(context, route.Repository),
            (RegistryRouteKind.Upload, "PATCH") => PatchUploadAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.Upload, "PUT") => FinishUploadAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.Upload, "GET") => UploadStatusAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.Upload, "DELETE") => CancelUploadAsync(context, route.Repository, route.Argument),
            (RegistryRouteKind.Referrers, "GET") => ReferrersAsync(context, route.Repository, route.Argument),
            _ => throw RegistryApiException.Unsupported($"{method} on this path"),
        };
    }

    // ---- manifests ------------------------------------------------------------------------------------------

    private async Task<ManifestRow> ResolveManifestAsync(string repo, string reference, CancellationToken ct)
    {
        var digest = reference.StartsWith(Digest.Prefix, StringComparison.Ordinal) || reference.Contains(':', StringComparison.Ordinal)
            ? ParseDigest(reference).ToString()
            : await _registry.ResolveTagAsync(repo, reference, ct);
        return (digest is null ? null : await _registry.GetManifestAsync(repo, digest, ct))
            ?? throw RegistryApiException.ManifestUnknown(repo, reference);
    }

    private async Task GetManifestAsync(HttpContext context, string repo, string reference, bool headOnly)
    {
        var row = await ResolveManifestAsync(repo, reference, context.RequestAborted);
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = row.MediaType;
        response.ContentLength = row.Bytes.Length;
        response.Headers["Docker-Content-Digest"] = row.Digest;
        response.Headers.ETag = $"\"{row.Digest}\"";
        if (!headOnly)
        {
            await response.Body.WriteAsync(row.Bytes, context.RequestAborted);
        }
    }

    private async Task PutManifestAsync(HttpContext context, string repo, string reference)
    {
        var ct = context.RequestAborted;
        var bytes = await ReadBodyAsync(context.Request, MaxManifestBytes, ct);
        ManifestDocument document;
        try
        {
            document = ManifestDocument.Parse(bytes, context.Request.ContentType is { } type ? MediaTypeHeaderValue.Parse(type).MediaType : null);
        }
        catch (ImageFormatException e)
        {
            throw new RegistryApiException(400, "MANIFEST_INVALID", e.Message);
        }

        string? tag = null;
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            if (ParseDigest(reference) != document.Digest)
            {
                throw RegistryApiException.DigestInvalid(reference, $"the manifest body hashes to {document.Digest}, not to the digest it was pushed by.");
            }
        }
        else if (!RepositoryName.IsValidTag(reference))
        {
            throw new RegistryApiException(400, "MANIFEST_INVALID", $"'{reference}' is not a valid tag: up to 128 of [A-Za-z0-9_.-], not starting with . or -.");
        }
        else
        {
            tag = reference;
        }

        var keep = new List<Digest>();
        if (document.Manifest is not null)
        {
            foreach (var blob in document.References)
            {
                await RequireBlobAsync(repo, blob, ct);
                keep.Add(Digest.Parse(blob.Digest));
                if (blob.MediaType == SlackerImageLayer.MediaType && await _references.ReadSnapshotAsync(blob, ct) is { } snapshot)
                {
                    keep.Add(snapshot);
                }
            }
        }
        else
        {
            foreach (var child in document.References)
            {
                if (await _registry.GetManifestAsync(repo, child.Digest, ct) is null)
                {
                    throw new RegistryApiException(400, "MANIFEST_BLOB_UNKNOWN", $"the index names manifest {child.Digest}, which is not in {repo}: push the platform manifests before the index.", child.Digest);
                }
            }
        }

        await _references.AddAsync(repo, document.Digest, keep, ct);
        await _registry.PutManifestAsync(new ManifestRow(repo, document.Digest.ToString(), document.MediaType, bytes, document.Subject?.Digest), tag, ct);

        var response = context.Response;
        response.StatusCode = 201;
        response.Headers.Location = $"/v2/{repo}/manifests/{document.Digest}";
        response.Headers["Docker-Content-Digest"] = document.Digest.ToString();
        if (document.Subject is { } subject)
        {
            response.Headers["OCI-Subject"] = subject.Digest;
        }
    }

    private async Task RequireBlobAsync(string repo, OciDescriptor blob, CancellationToken ct)
    {
        var digest = Digest.Parse(blob.Digest);
        var length = await _registry.IsBlobLinkedAsync(repo, blob.Digest, ct) ? await _stores.Chunks.GetLengthAsync(digest, ct) : null;
        if (length is null)
        {
            throw new RegistryApiException(400, "MANIFEST_BLOB_UNKNOWN", $"the manifest names blob {blob.Digest} ({blob.MediaType}), which is not in {repo}: push the blob before the manifest.", blob.Digest);
        }

        if (length != blob.Size)
        {
            throw new RegistryApiException(400, "MANIFEST_INVALID", $"the manifest says blob {blob.Digest} is {blob.Size} bytes but it is {length}: fix the descriptor's size.");
        }
    }

    private async Task DeleteManifestAsync(HttpContext context, string repo, string reference)
    {
        var ct = context.RequestAborted;
        if (!reference.Contains(':', StringComparison.Ordinal))
        {
            if (!await _registry.DeleteTagAsync(repo, reference, ct))
            {
                throw RegistryApiException.ManifestUnknown(repo, reference);
            }

            context.Response.StatusCode = 202;
            return;
        }

        var row = await ResolveManifestAsync(repo, reference, ct);
        await _registry.DeleteManifestAsync(repo, row.Digest, ct);
        await _references.RemoveAsync(repo, row, ct);
        context.Response.StatusCode = 202;
    }

    // ---- blobs ----------------------------------------------------------------------------------------------

    private async Task GetBlobAsync(HttpContext context, string repo, string digestText, bool headOnly)
    {
        var ct = context.RequestAborted;
        var digest = ParseDigest(digestText);
        var stream = await _registry.IsBlobLinkedAsync(repo, digest.ToString(), ct) ? await _stores.Chunks.OpenReadAsync(digest, ct) : null;
        if (stream is null)
        {
            throw RegistryApiException.BlobUnknown(digest.ToString());
        }

        await using (stream)
        {
            var length = stream.Length;
            var response = context.Response;
            response.Headers["Docker-Content-Digest"] = digest.ToString();
            response.Headers.AcceptRanges = "bytes";
            response.Headers.ETag = $"\"{digest}\"";
            response.ContentType = MediaTypes.Octets;
            long start = 0, end = length - 1;
            if (context.Request.Headers.Range.Count > 0 && TryParseRange(context.Request.Headers.Range.ToString(), length, out start, out end))
            {
                response.StatusCode = 206;
                response.Headers.ContentRange = $"bytes {start}-{end}/{length}";
            }
            else if (context.Request.Headers.Range.Count > 0)
            {
                response.StatusCode = 416;
                response.Headers.ContentRange = $"bytes */{length}";
                return;
            }
            else
            {
                response.StatusCode = 200;
            }

            response.ContentLength = end - start + 1;
            if (headOnly || length == 0)
            {
                return;
            }

            stream.Seek(start, SeekOrigin.Begin);
            await CopyAsync(stream, response.Body, end - start + 1, ct);
        }
    }

    private static bool TryParseRange(string header, long length, out long start, out long end)
    {
        start = 0;
        end = length - 1;
        if (!RangeHeaderValue.TryParse(header, out var range) || range.Unit != "bytes" || range.Ranges.Count != 1)
        {
            return false;
        }

        var item = range.Ranges.First();
        if (item.From is { } from)
        {
            start = from;
            end = Math.Min(item.To ?? (length - 1), length - 1);
        }
        else if (item.To is { } suffix)
        {
            start = Math.Max(0, length - suffix);
        }

        return start <= end && start < length;
    }

    private async Task DeleteBlobAsync(HttpContext context, string repo, string digestText)
    {
        var digest = ParseDigest(digestText);
        if (!await _registry.UnlinkBlobAsync(repo, digest.ToString(), context.RequestAborted))
        {
            throw RegistryApiException.BlobUnknown(digest.ToString());
        }

        context.Response.StatusCode = 202;
    }

    // ---- uploads ----------------------------------------------------------------------------------------------

    private async Task StartUploadAsync(HttpContext context, string repo)
    {
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        if (query.TryGetValue("mount", out var mountValue))
        {
            var digest = ParseDigest(mountValue.ToString());
            var from = query.TryGetValue("from", out var fromValue) ? fromValue.ToString() : null;
            var linked = from is not null && RepositoryName.IsValid(from)
                ? await _registry.IsBlobLinkedAsync(from, digest.ToString(), ct)
                : await _registry.IsBlobLinkedAnywhereAsync(digest.ToString(), ct);
            if (linked && await _stores.Chunks.TouchAsync(digest, ct))
            {
                await _registry.LinkBlobAsync(repo, digest.ToString(), ct);
                BlobCreated(context, repo, digest);
                return;
            }
        }

        if (query.TryGetValue("digest", out var digestValue))
        {
            // Monolithic upload in one POST.
            var digest = ParseDigest(digestValue.ToString());
            AllowLargeBody(context);
            var result = await _stores.Chunks.PutStreamAsync(context.Request.Body, digest, MaxBlobBytes, ct);
            await _registry.LinkBlobAsync(repo, result.Digest.ToString(), ct);
            BlobCreated(context, repo, result.Digest);
            return;
        }

        var id = await _uploads.StartAsync(repo, ct);
        UploadAccepted(context, repo, id, 0, 202);
    }

    private async Task PatchUploadAsync(HttpContext context, string repo, string id)
    {
        var ct = context.RequestAborted;
        var offset = await _uploads.OffsetAsync(repo, id, ct);
        if (context.Request.Headers.ContentRange.Count > 0)
        {
            var text = context.Request.Headers.ContentRange.ToString();
            var dash = text.IndexOf('-', StringComparison.Ordinal);
            var startText = text.StartsWith("bytes ", StringComparison.Ordinal) ? text[6..dash] : dash > 0 ? text[..dash] : text;
            if (!long.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start) || start != offset)
            {
                context.Response.Headers.Location = $"/v2/{repo}/blobs/uploads/{id}";
                context.Response.Headers.Range = offset == 0 ? "0-0" : $"0-{offset - 1}";
                throw new RegistryApiException(416, "BLOB_UPLOAD_INVALID", $"the chunk starts at '{text}' but the upload has {offset} bytes: send the next chunk from offset {offset}.");
            }
        }

        AllowLargeBody(context);
        var size = await _uploads.AppendAsync(id, context.Request.Body, ct);
        UploadAccepted(context, repo, id, size, 202);
    }

    private async Task FinishUploadAsync(HttpContext context, string repo, string id)
    {
        var ct = context.RequestAborted;
        if (!context.Request.Query.TryGetValue("digest", out var digestValue))
        {
            throw RegistryApiException.DigestInvalid("", "finishing an upload needs ?digest=sha256:...");
        }

        var digest = ParseDigest(digestValue.ToString());
        await _uploads.OffsetAsync(repo, id, ct);
        AllowLargeBody(context);
        await _uploads.AppendAsync(id, context.Request.Body, ct);
        try
        {
            await using var content = await _uploads.OpenReadAsync(id, ct);
            var result = await _stores.Chunks.PutStreamAsync(content, digest, MaxBlobBytes, ct);
            await _registry.LinkBlobAsync(repo, result.Digest.ToString(), ct);
            BlobCreated(context, repo, result.Digest);
        }
        finally
        {
            await _uploads.RemoveAsync(id, CancellationToken.None);
        }
    }

    private async Task UploadStatusAsync(HttpContext context, string repo, string id)
    {
        var offset = await _uploads.OffsetAsync(repo, id, context.RequestAborted);
        UploadAccepted(context, repo, id, offset, 204);
    }

    private async Task CancelUploadAsync(HttpContext context, string repo, string id)
    {
        await _uploads.OffsetAsync(repo, id, context.RequestAborted);
        await _uploads.RemoveAsync(id, context.RequestAborted);
        context.Response.StatusCode = 204;
    }

    private static void UploadAccepted(HttpContext context, string repo, string id, long size, int status)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.Location = $"/v2/{repo}/blobs/uploads/{id}";
        response.Headers.Range = size == 0 ? "0-0" : $"0-{size - 1}";
        response.Headers["Docker-Upload-UUID"] = id;
        response.ContentLength = 0;
    }

    private static void BlobCreated(HttpContext context, string repo, Digest digest)
    {
        var response = context.Response;
        response.StatusCode = 201;
        response.Headers.Location = $"/v2/{repo}/blobs/{digest}";
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.ContentLength = 0;
    }

    // ---- discovery --------------------------------------------------------------------------------------------

    private async Task TagsAsync(HttpContext context, string repo)
    {
        var ct = context.RequestAborted;
        var (n, last) = Paging(context);
        if (!await _registry.RepositoryExistsAsync(repo, ct))
        {
            throw RegistryApiException.NameUnknown(repo);
        }

        var tags = await _registry.ListTagsAsync(repo, last, n + 1, ct);
        var more = tags.Count > n;
        if (more)
        {
            tags.RemoveAt(tags.Count - 1);
            context.Response.Headers.Link = $"</v2/{repo}/tags/list?n={n}&last={Uri.EscapeDataString(tags[^1])}>; rel=\"next\"";
        }

        await WriteJsonAsync(context, 200, JsonSerializer.SerializeToUtf8Bytes(new TagList { Name = repo, Tags = tags }, ImagesJsonContext.Default.TagList));
    }

    private async Task CatalogAsync(HttpContext context)
    {
        var (n, last) = Paging(context);
        var repositories = await _registry.ListRepositoriesAsync(last, n + 1, context.RequestAborted);
        if (repositories.Count > n)
        {
            repositories.RemoveAt(repositories.Count - 1);
            context.Response.Headers.Link = $"</v2/_catalog?n={n}&last={Uri.EscapeDataString(repositories[^1])}>; rel=\"next\"";
        }

        await WriteJsonAsync(context, 200, JsonSerializer.SerializeToUtf8Bytes(new Catalog { Repositories = repositories }, ImagesJsonContext.Default.Catalog));
    }

    private static (int N, string? Last) Paging(HttpContext context)
    {
        var query = context.Request.Query;
        var n = DefaultPageSize;
        if (query.TryGetValue("n", out var nValue) && (!int.TryParse(nValue, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < 0 || n > 100_000))
        {
            throw new RegistryApiException(400, "PAGINATION_NUMBER_INVALID", $"n='{nValue}' is not a page size: use 0 to 100000.");
        }

        return (n, query.TryGetValue("last", out var last) ? last.ToString() : null);
    }

    private async Task ReferrersAsync(HttpContext context, string repo, string digestText)
    {
        var subject = ParseDigest(digestText);
        var filter = context.Request.Query.TryGetValue("artifactType", out var value) ? value.ToString() : null;
        var descriptors = new List<OciDescriptor>();
        foreach (var row in await _registry.ListReferrersAsync(repo, subject.ToString(), context.RequestAborted))
        {
            var document = ManifestDocument.Parse(row.Bytes, row.MediaType);
            var artifactType = document.ArtifactType;
            if (filter is not null && artifactType != filter)
            {
                continue;
            }

            descriptors.Add(document.ToDescriptor() with
            {
                ArtifactType = artifactType,
                Annotations = document.Manifest?.Annotations ?? document.Index?.Annotations,
            });
        }

        if (filter is not null)
        {
            context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        }

        var index = new OciIndex { MediaType = MediaTypes.OciIndex, Manifests = descriptors };
        context.Response.StatusCode = 200;
        context.Response.ContentType = MediaTypes.OciIndex;
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(index, ImagesJsonContext.Default.OciIndex), context.RequestAborted);
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------

    private static Digest ParseDigest(string text) =>
        Digest.TryParse(text, out var digest)
            ? digest
            : throw RegistryApiException.DigestInvalid(text, text.StartsWith("sha512:", StringComparison.Ordinal)
                ? "only sha256 digests are supported by this registry."
                : "expected 'sha256:' and 64 lowercase hex digits.");

    private static void AllowLargeBody(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBlobBytes;
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
        {
            throw new RegistryApiException(413, "SIZE_INVALID", $"the manifest is {request.ContentLength} bytes; this registry accepts manifests up to {limit} bytes.");
        }

        using var buffer = new MemoryStream();
        await CopyAsync(request.Body, buffer, limit + 1, ct);
        return buffer.Length > limit
            ? throw new RegistryApiException(413, "SIZE_INVALID", $"the manifest is over {limit} bytes; refused.")
            : buffer.ToArray();
    }

    private static async Task CopyAsync(Stream source, Stream destination, long count, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (count > 0)
            {
                var n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), ct);
                if (n == 0)
                {
                    break;
                }

                await destination.WriteAsync(buffer.AsMemory(0, n), ct);
                count -= n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        if (context.Request.Method != "HEAD")
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message, string? detail)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        var location = context.Response.Headers.Location;
        var range = context.Response.Headers.Range;
        context.Response.Clear();
        context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        if (status == 416)
        {
            context.Response.Headers.Location = location;
            context.Response.Headers.Range = range;
        }

        var body = new RegistryErrorBody { Errors = [new RegistryError { Code = code, Message = message, Detail = detail }] };
        await WriteJsonAsync(context, status, JsonSerializer.SerializeToUtf8Bytes(body, ImagesJsonContext.Default.RegistryErrorBody));
    }
}
