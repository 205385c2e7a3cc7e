using System.Buffers.Binary;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Core.Api;
using Slacker.Core.Engine;
using Slacker.Core.Model;
using Slacker.Server.Http;
using Slacker.Server.Metrics;

namespace Slacker.Server.Endpoints;

/// <summary>/api/v1/chunks: upload (verified), existence, download, the missing-chunks query and batch download.</summary>
public static class ChunkEndpoints
{
    public const int MaxBatchDigests = BlockStoreClient.MaxBatchDigests;
    public const long MaxBatchBytes = 64L * 1024 * 1024;
    private const int FrameHeader = Digest.Length + sizeof(uint);
    private const int FlushBytes = 256 << 10;

    public static IEndpointRouteBuilder MapChunks(this IEndpointRouteBuilder app)
    {
        var chunks = app.MapGroup("/api/v1/chunks");
        chunks.MapPut("/{digest}", PutAsync);
        chunks.MapMethods("/{digest}", [HttpMethods.Head], HeadAsync);
        chunks.MapGet("/{digest}", GetAsync);
        chunks.MapPost("/missing", MissingAsync);
        chunks.MapPost("/batch", BatchAsync);
        return app;
    }

    private static async Task<IResult> PutAsync(string digest, HttpContext context, BlockStore store, ServerMetrics metrics)
    {
        var name = RequestReader.ParseDigest(digest);
        var length = context.Request.ContentLength
            ?? throw new BlockStoreException(411, ErrorCodes.SizeInvalid, "a chunk upload needs a Content-Length header (chunked transfer encoding is not accepted).");
        if (length > ChunkGeometry.MaxChunkSize)
        {
            throw BlockStoreErrors.BodyTooLarge(ChunkGeometry.MaxChunkSize);
        }

        var created = await store.PutChunkAsync(name, context.Request.Body, context.RequestAborted);
        if (created)
        {
            metrics.ChunkUploaded(length);
        }

        return created ? Results.Created($"/api/v1/chunks/{name}", null) : Results.Ok();
    }

    private static async Task<IResult> HeadAsync(string digest, HttpContext context, BlockStore store)
    {
        var name = RequestReader.ParseDigest(digest);
        var length = ZeroChunks.SizeOf(name) is > 0 and var zero ? zero : await store.Chunks.GetLengthAsync(name, context.RequestAborted);
        if (length is null)
        {
            return Results.NotFound();
        }

        context.Response.ContentLength = length;
        context.Response.ContentType = MediaTypes.Octets;
        return Results.Empty;
    }

    private static async Task GetAsync(string digest, HttpContext context, BlockStore store, ServerMetrics metrics)
    {
        var name = RequestReader.ParseDigest(digest);
        var response = context.Response;
        response.ContentType = MediaTypes.Octets;
        if (ZeroChunks.SizeOf(name) is > 0 and var zeroSize)
        {
            response.ContentLength = zeroSize;
            await response.Body.WriteAsync(new byte[zeroSize], context.RequestAborted);
            metrics.ChunkServed(zeroSize);
            return;
        }

        await using var stream = await store.Chunks.OpenReadAsync(name, context.RequestAborted) ?? throw BlockStoreErrors.ChunkUnknown(name);
        response.ContentLength = stream.Length;
        await stream.CopyToAsync(response.Body, context.RequestAborted);
        metrics.ChunkServed(stream.Length);
    }

    private static async Task<IResult> MissingAsync(HttpContext context, BlockStore store)
    {
        var request = await RequestReader.ReadJsonAsync(context.Request, CoreJsonContext.Default.MissingChunksRequest, context.RequestAborted);
        var digests = RequestReader.ParseDigests(request.Digests, "digests", BlockStore.MaxMissingQuery);
        var missing = await store.FindMissingAsync(digests, context.RequestAborted);
        return Results.Json(new MissingChunksResponse([.. missing.Select(d => d.ToString())]), ServerJson.Context.MissingChunksResponse);
    }

    /// <summary>
    /// Framed answer: per digest, 32 raw digest bytes, u32 LE length, the bytes. Every chunk is looked up before
    /// the first byte goes out, so a missing one is a clean 404 rather than a broken stream.
    /// </summary>
    private static async Task BatchAsync(HttpContext context, BlockStore store, ServerMetrics metrics)
    {
        var ct = context.RequestAborted;
        var request = await RequestReader.ReadJsonAsync(context.Request, CoreJsonContext.Default.ChunkBatchRequest, ct);
        var digests = RequestReader.ParseDigests(request.Digests, "digests", MaxBatchDigests);
        var lengths = new long[digests.Length];
        var stored = await store.Chunks.GetLengthsAsync(digests, ct);
        long total = 0;
        for (var i = 0; i < digests.Length; i++)
        {
            lengths[i] = ZeroChunks.SizeOf(digests[i]) is > 0 and var zero
                ? zero
                : stored[i] ?? throw BlockStoreErrors.ChunkUnknown(digests[i]);
            total += FrameHeader + lengths[i];
        }

        if (total > MaxBatchBytes + (FrameHeader * MaxBatchDigests))
        {
            throw BlockStoreErrors.BodyTooLarge(MaxBatchBytes, "a batch answer");
        }

        var response = context.Response;
        response.ContentType = MediaTypes.ChunkBatch;
        response.ContentLength = total;
        var body = response.BodyWriter;
        long unflushed = 0;

        // A remote store has latency per object, not per byte: keep a window of reads in flight ahead of the writer.
        var window = store.Chunks.ReadConcurrency;
        var ahead = window > 1 ? new Task<byte[]?>?[digests.Length] : null;
        var next = 0;
        void ReadAhead(int upTo)
        {
            for (; ahead is not null && next < Math.Min(upTo, digests.Length); next++)
            {
                ahead[next] = ZeroChunks.IsZeroChunk(digests[next]) ? null : store.Chunks.ReadAllAsync(digests[next], ct).AsTask();
            }
        }

        for (var i = 0; i < digests.Length; i++)
        {
            ReadAhead(i + window);
            var length = (int)lengths[i];
            unflushed += FrameHeader + length;
            var header = body.GetSpan(FrameHeader);
            digests[i].CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[Digest.Length..], (uint)length);
            body.Advance(FrameHeader);
            if (ZeroChunks.IsZeroChunk(digests[i]))
            {
                body.GetSpan(length)[..length].Clear();
                body.Advance(length);
            }
            else
            {
                // Gone since the lookup (gc of an unreferenced chunk): cut the answer; the client sees it broken, never wrong.
                if (ahead is not null)
                {
                    var bytes = await ahead[i]! ?? throw BlockStoreErrors.ChunkUnknown(digests[i]);
                    ahead[i] = null;
                    if (bytes.Length < length)
                    {
                        throw BlockStoreErrors.ChunkUnknown(digests[i]);
                    }

                    bytes.AsSpan(0, length).CopyTo(body.GetSpan(length));
                }
                else if (!await store.Chunks.ReadIntoAsync(digests[i], body.GetMemory(length)[..length], ct))
                {
                    throw BlockStoreErrors.ChunkUnknown(digests[i]);
                }

                body.Advance(length);
            }

            metrics.ChunkServed(lengths[i]);

            // Bounded buffering: a flush waits for the client when the socket is full.
            if (unflushed >= FlushBytes)
            {
                await body.FlushAsync(ct);
                unflushed = 0;
            }
        }

        await body.FlushAsync(ct);
    }
}
