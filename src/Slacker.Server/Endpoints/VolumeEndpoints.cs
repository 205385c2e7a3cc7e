using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Core.Api;
using Slacker.Core.Engine;
using Slacker.Core.Model;
using Slacker.Server.Http;

namespace Slacker.Server.Endpoints;

/// <summary>/api/v1/volumes: create or clone, inspect, change the block map, snapshot, delete.</summary>
public static class VolumeEndpoints
{
    public static IEndpointRouteBuilder MapVolumes(this IEndpointRouteBuilder app)
    {
        var volumes = app.MapGroup("/api/v1/volumes");
        volumes.MapPost("/", CreateAsync);
        volumes.MapGet("/", ListAsync);
        volumes.MapGet("/{id}", GetAsync);
        volumes.MapDelete("/{id}", DeleteAsync);
        volumes.MapPatch("/{id}/map", UpdateMapAsync);
        volumes.MapGet("/{id}/map", GetMapAsync);
        volumes.MapPost("/{id}/snapshot", SnapshotAsync);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, BlockStore store)
    {
        var ct = context.RequestAborted;
        var request = await RequestReader.ReadJsonAsync(context.Request, CoreJsonContext.Default.CreateVolumeRequest, ct);
        VolumeInfo volume;
        if (request.BaseSnapshot is not null)
        {
            var snapshot = RequestReader.ParseDigest(request.BaseSnapshot, "baseSnapshot");
            var cloned = await store.CloneAsync(snapshot, request.Label, request.Id, ct);
            if ((request.Size is { } size && size != cloned.Geometry.VolumeSize) || (request.ChunkSize is { } chunk && chunk != cloned.Geometry.ChunkSize))
            {
                await store.DeleteVolumeAsync(cloned.Id, ct);
                throw BlockStoreErrors.SizeInvalid($"a clone has its snapshot's geometry ({cloned.Geometry.VolumeSize} bytes in {cloned.Geometry.ChunkSize}-byte chunks): omit size and chunkSize, or give those values.");
            }

            volume = cloned.ToInfo();
        }
        else
        {
            var size = request.Size ?? throw BlockStoreErrors.SizeInvalid("a new volume needs \"size\" (bytes, a multiple of chunkSize), or \"baseSnapshot\" for a clone.");
            volume = (await store.CreateVolumeAsync(size, request.ChunkSize ?? ChunkGeometry.DefaultChunkSize, request.Label, request.Id, ct)).ToInfo();
        }

        return Results.Json(volume, ServerJson.Context.VolumeInfo, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(BlockStore store, CancellationToken ct)
    {
        var volumes = await store.ListVolumesAsync(ct);
        return Results.Json<IReadOnlyList<VolumeInfo>>([.. volumes.Select(v => v.ToInfo())], ServerJson.Context.IReadOnlyListVolumeInfo);
    }

    private static async Task<IResult> GetAsync(string id, BlockStore store, CancellationToken ct) =>
        Results.Json((await store.GetVolumeAsync(id, ct)).ToInfo(), ServerJson.Context.VolumeInfo);

    private static async Task<IResult> DeleteAsync(string id, BlockStore store, CancellationToken ct)
    {
        await store.DeleteVolumeAsync(id, ct);
        return Results.NoContent();
    }

    private static async Task<IResult> UpdateMapAsync(string id, HttpContext context, BlockStore store)
    {
        var ct = context.RequestAborted;
        var request = await RequestReader.ReadJsonAsync(context.Request, CoreJsonContext.Default.UpdateBlockMapRequest, ct);
        if (request.Entries is null)
        {
            throw BlockStoreErrors.JsonInvalid("the 'entries' array is missing");
        }

        var changes = new ChunkChange[request.Entries.Count];
        for (var i = 0; i < changes.Length; i++)
        {
            var entry = request.Entries[i] ?? throw BlockStoreErrors.JsonInvalid($"entries[{i}] is null");
            changes[i] = new ChunkChange(entry.Index, entry.Digest is null ? Digest.Zero : RequestReader.ParseDigest(entry.Digest, $"entries[{i}].digest"));
        }

        var volume = await store.UpdateMapAsync(id, changes, ct);
        return Results.Json(volume.ToInfo(), ServerJson.Context.VolumeInfo);
    }

    private static async Task<IResult> GetMapAsync(string id, BlockStore store, CancellationToken ct)
    {
        var state = await store.GetVolumeStateAsync(id, ct);
        var volume = state.Volume;
        var map = new VolumeBlockMap(
            volume.Id, volume.Geometry.VolumeSize, volume.Geometry.ChunkSize, volume.BaseSnapshot?.ToString(),
            [.. state.Changes.Select(c => new BlockMapEntry(c.Index, c.Digest.IsZero ? null : c.Digest.ToString()))]);
        return Results.Json(map, ServerJson.Context.VolumeBlockMap);
    }

    private static async Task<IResult> SnapshotAsync(string id, HttpContext context, BlockStore store)
    {
        var ct = context.RequestAborted;
        var request = await RequestReader.ReadOptionalJsonAsync(context.Request, CoreJsonContext.Default.CreateSnapshotRequest, new CreateSnapshotRequest(), ct);
        // The snapshot must complete once started, even if the client hangs up: never leave half a commit behind
        // (the commit is atomic anyway; this just avoids wasted work on a retry).
        var snapshot = await store.SnapshotAsync(id, request.Label, CancellationToken.None);
        var users = await store.GetSnapshotUsersAsync(snapshot.Id, ct);
        return Results.Json(snapshot.ToInfo(users), ServerJson.Context.SnapshotInfo, statusCode: StatusCodes.Status201Created);
    }
}
