using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Slacker.Core.Model;

namespace Slacker.Core.Api;

/// <summary>
/// The block-store API (docs/API.md) over HttpClient. Everything that comes back content-addressed (chunks,
/// pages, roots) is verified against the digest it was asked by before the caller sees it, so the server and
/// the network are never trusted with data integrity.
/// </summary>
public sealed class BlockStoreClient(HttpClient http)
{
    /// <summary>The server limits a batch to this many digests (and 64 MiB); larger requests are split.</summary>
    public const int MaxBatchDigests = 1024;

    /// <summary>The server limits a missing-chunks query to this many digests; larger queries are split.</summary>
    public const int MaxMissingQuery = 100_000;

    private const string Prefix = "api/v1/";

    public Uri? ServerAddress => http.BaseAddress;

    /// <summary>Uploads one chunk. True if the server stored it now, false if it already had it.</summary>
    public async Task<bool> PutChunkAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Prefix}chunks/{digest}")
        {
            Content = new ReadOnlyMemoryContent(data),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.Octets);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return response.StatusCode == HttpStatusCode.Created;
    }

    /// <summary>The digests the server lacks. Present ones are touched, so a concurrent gc keeps them for the grace period.</summary>
    public async Task<IReadOnlyList<Digest>> FindMissingAsync(IReadOnlyCollection<Digest> digests, CancellationToken ct = default)
    {
        var missing = new List<Digest>();
        foreach (var batch in digests.Chunk(MaxMissingQuery))
        {
            var body = new MissingChunksRequest(Array.ConvertAll(batch, d => d.ToString()));
            var answer = await PostJsonAsync(
                "chunks/missing", body, CoreJsonContext.Default.MissingChunksRequest, CoreJsonContext.Default.MissingChunksResponse, ct);
            foreach (var text in answer.Missing)
            {
                missing.Add(ParseDigestFromServer(text));
            }
        }

        return missing;
    }

    /// <summary>One chunk, verified against its digest.</summary>
    public async Task<byte[]> GetChunkAsync(Digest digest, CancellationToken ct = default)
    {
        var bytes = await GetBytesAsync($"{Prefix}chunks/{digest}", ct);
        if (!digest.Matches(bytes))
        {
            throw BadResponse($"chunk {digest} came back with {bytes.Length} bytes that do not hash to it");
        }

        return bytes;
    }

    /// <summary>
    /// Many chunks in few round trips (the node coalesces neighbouring misses into one call). Each chunk is
    /// verified before <paramref name="onChunk"/> sees it; the memory is only valid during that call.
    /// </summary>
    public async Task GetChunksAsync(
        IReadOnlyList<Digest> digests, Func<Digest, ReadOnlyMemory<byte>, ValueTask> onChunk, CancellationToken ct = default)
    {
        for (var start = 0; start < digests.Count;)
        {
            var count = Math.Min(MaxBatchDigests, digests.Count - start);
            while (true)
            {
                try
                {
                    await GetBatchAsync(digests, start, count, onChunk, ct);
                    break;
                }
                catch (BlockStoreException e) when (e.Code == ErrorCodes.BodyTooLarge && count > 1)
                {
                    // The 64 MiB answer limit depends on chunk sizes only the server knows: halve and retry.
                    count /= 2;
                }
            }

            start += count;
        }
    }

    // Volume ids are chosen here, so that a create that is retried (on another server, after a lost answer) is
    // the same create, not a second volume.
    public Task<VolumeInfo> CreateVolumeAsync(long size, int chunkSize, string? label = null, CancellationToken ct = default) =>
        PostJsonAsync("volumes", new CreateVolumeRequest(size, chunkSize, null, label, Engine.BlockStore.NewVolumeId()),
            CoreJsonContext.Default.CreateVolumeRequest, CoreJsonContext.Default.VolumeInfo, ct);

    /// <summary>A new volume whose base is <paramref name="snapshot"/>. O(1) on the server, whatever the size.</summary>
    public Task<VolumeInfo> CloneAsync(Digest snapshot, string? label = null, CancellationToken ct = default) =>
        PostJsonAsync("volumes", new CreateVolumeRequest(null, null, snapshot.ToString(), label, Engine.BlockStore.NewVolumeId()),
            CoreJsonContext.Default.CreateVolumeRequest, CoreJsonContext.Default.VolumeInfo, ct);

    public Task<VolumeInfo> GetVolumeAsync(string volumeId, CancellationToken ct = default) =>
        GetJsonAsync($"volumes/{Uri.EscapeDataString(volumeId)}", CoreJsonContext.Default.VolumeInfo, ct);

    public Task<IReadOnlyList<VolumeInfo>> ListVolumesAsync(CancellationToken ct = default) =>
        GetJsonAsync("volumes", CoreJsonContext.Default.IReadOnlyListVolumeInfo, ct);

    /// <summary>Sets chunk digests (null = zero chunk). All or nothing; every named chunk must be on the server.</summary>
    public async Task<VolumeInfo> UpdateMapAsync(string volumeId, IReadOnlyList<BlockMapEntry> entries, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"{Prefix}volumes/{Uri.EscapeDataString(volumeId)}/map")
        {
            Content = JsonContent.Create(new UpdateBlockMapRequest(entries), CoreJsonContext.Default.UpdateBlockMapRequest),
        };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadJsonAsync(response, CoreJsonContext.Default.VolumeInfo, ct);
    }

    public Task<VolumeBlockMap> GetMapAsync(string volumeId, CancellationToken ct = default) =>
        GetJsonAsync($"volumes/{Uri.EscapeDataString(volumeId)}/map", CoreJsonContext.Default.VolumeBlockMap, ct);

    public async Task DeleteVolumeAsync(string volumeId, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{Prefix}volumes/{Uri.EscapeDataString(volumeId)}");
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
    }

    /// <summary>Snapshots the volume atomically; its id is the Merkle root digest. The volume's base becomes the snapshot.</summary>
    public Task<SnapshotInfo> SnapshotAsync(string volumeId, string? label = null, CancellationToken ct = default) =>
        PostJsonAsync($"volumes/{Uri.EscapeDataString(volumeId)}/snapshot", new CreateSnapshotRequest(label),
            CoreJsonContext.Default.CreateSnapshotRequest, CoreJsonContext.Default.SnapshotInfo, ct);

    public Task<SnapshotInfo> GetSnapshotAsync(Digest id, CancellationToken ct = default) =>
        GetJsonAsync($"snapshots/{id}", CoreJsonContext.Default.SnapshotInfo, ct);

    public Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(CancellationToken ct = default) =>
        GetJsonAsync("snapshots", CoreJsonContext.Default.IReadOnlyListSnapshotInfo, ct);

    /// <summary>Releases the snapshot: gc removes it once no volume base and no tag references it.</summary>
    public async Task<SnapshotInfo> ReleaseSnapshotAsync(Digest id, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{Prefix}snapshots/{id}");
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadJsonAsync(response, CoreJsonContext.Default.SnapshotInfo, ct);
    }

    /// <summary>The snapshot's root, verified against its id (which therefore verifies everything beneath).</summary>
    /// <summary>The snapshot's startup profile, or null when no container of it has recorded one yet.</summary>
    public async Task<StartupProfile?> GetStartupProfileAsync(Digest snapshotId, CancellationToken ct = default)
    {
        try
        {
            return await GetJsonAsync($"snapshots/{snapshotId}/profile", CoreJsonContext.Default.StartupProfile, ct);
        }
        catch (BlockStoreException e) when (e.Code == ErrorCodes.ProfileUnknown)
        {
            return null;
        }
    }

    public async Task PutStartupProfileAsync(Digest snapshotId, StartupProfile profile, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Prefix}snapshots/{snapshotId}/profile")
        {
            Content = JsonContent.Create(profile, CoreJsonContext.Default.StartupProfile),
        };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
    }

    public async Task<BlockMapRoot> GetRootAsync(Digest snapshotId, CancellationToken ct = default)
    {
        var bytes = await GetBytesAsync($"{Prefix}snapshots/{snapshotId}/root", ct);
        try
        {
            return BlockMapRoot.Decode(bytes, snapshotId);
        }
        catch (InvalidDataException e)
        {
            throw BadResponse($"root of snapshot {snapshotId}: {e.Message}");
        }
    }

    /// <summary>One block-map page (32 KiB), verified against its digest.</summary>
    public async Task<byte[]> GetPageAsync(Digest page, CancellationToken ct = default)
    {
        var bytes = await GetBytesAsync($"{Prefix}pages/{page}", ct);
        if (bytes.Length != ChunkGeometry.PageBytes || !page.Matches(bytes))
        {
            throw BadResponse($"page {page} came back with {bytes.Length} bytes that do not hash to it");
        }

        return bytes;
    }

    public async Task<GcReport> GcAsync(CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Prefix}gc");
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadJsonAsync(response, CoreJsonContext.Default.GcReport, ct);
    }

    private async Task GetBatchAsync(
        IReadOnlyList<Digest> digests, int start, int count, Func<Digest, ReadOnlyMemory<byte>, ValueTask> onChunk, CancellationToken ct)
    {
        var names = new string[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = digests[start + i].ToString();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Prefix}chunks/batch")
        {
            Content = JsonContent.Create(new ChunkBatchRequest(names), CoreJsonContext.Default.ChunkBatchRequest),
        };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var header = new byte[Digest.Length + sizeof(uint)];
        for (var i = 0; i < count; i++)
        {
            var expected = digests[start + i];
            await ReadFrameAsync(body, header, expected, ct);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(Digest.Length));
            if (new Digest(header.AsSpan(0, Digest.Length)) != expected || length > ChunkGeometry.MaxChunkSize)
            {
                throw BadResponse($"chunk batch frame {i} should carry {expected} (at most 1 MiB) but names {new Digest(header.AsSpan(0, Digest.Length))} with {length} bytes");
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)length);
            try
            {
                var data = buffer.AsMemory(0, (int)length);
                await ReadFrameAsync(body, data, expected, ct);
                if (!expected.Matches(data.Span))
                {
                    throw BadResponse($"chunk {expected} in a batch came back with bytes that do not hash to it");
                }

                await onChunk(expected, data);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task ReadFrameAsync(Stream body, Memory<byte> into, Digest expected, CancellationToken ct)
    {
        try
        {
            await body.ReadExactlyAsync(into, ct);
        }
        catch (EndOfStreamException e)
        {
            throw BadResponse($"chunk batch ended early while reading {expected}", e);
        }
        catch (IOException e)
        {
            throw BadResponse($"chunk batch broke off while reading {expected}: {e.Message}", e);
        }
    }

    private async Task<T> GetJsonAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Prefix + path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadJsonAsync(response, type, ct);
    }

    private async Task<TResponse> PostJsonAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + path)
        {
            Content = JsonContent.Create(body, requestType),
        };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadJsonAsync(response, responseType, ct);
    }

    private async Task<byte[]> GetBytesAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, ct)
                ?? throw BadResponse($"{response.RequestMessage?.RequestUri} answered an empty JSON document");
        }
        catch (JsonException e)
        {
            throw BadResponse($"{response.RequestMessage?.RequestUri} answered malformed JSON: {e.Message}", e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e)
        {
            var why = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                ? "connection refused"
                : e.Message;
            throw new BlockStoreException(0, ErrorCodes.ServerUnreachable,
                $"Cannot reach the Slacker server at {http.BaseAddress} ({why}). Start it with `slacker server`, or point --server / SLACKER_SERVER at a running one.", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new BlockStoreException(0, ErrorCodes.ServerTimeout,
                $"The Slacker server at {http.BaseAddress} did not answer {request.Method} {request.RequestUri} within {http.Timeout.TotalSeconds:0} s. Check that it is healthy (GET /healthz) and not overloaded, then retry.", e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ErrorFromAsync(response, ct);
        }
    }

    private static async Task<BlockStoreException> ErrorFromAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            if (JsonSerializer.Deserialize(text, CoreJsonContext.Default.ApiError) is { Error: not null, Message: not null } error)
            {
                return new BlockStoreException(status, error.Error, error.Message);
            }
        }
        catch (JsonException)
        {
            // Not our error document (a proxy, or a framework page): report the raw answer below.
        }

        var snippet = text.Length > 300 ? text[..300] : text;
        return new BlockStoreException(status, $"HTTP_{status}",
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} failed with {status} {response.ReasonPhrase}: {snippet}");
    }

    private BlockStoreException BadResponse(string what, Exception? inner = null) =>
        inner is null
            ? new BlockStoreException(502, ErrorCodes.BadResponse, $"The Slacker server at {http.BaseAddress} sent a bad answer: {what}.")
            : new BlockStoreException(502, ErrorCodes.BadResponse, $"The Slacker server at {http.BaseAddress} sent a bad answer: {what}.", inner);

    private Digest ParseDigestFromServer(string text) =>
        Digest.TryParse(text, out var digest) ? digest : throw BadResponse($"'{text}' is not a digest");
}
