using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Core.Api;
using Slacker.Core.Engine;
using Slacker.Core.Model;
using Slacker.Server.Http;

namespace Slacker.Server.Endpoints;

/// <summary>/api/v1/snapshots and /api/v1/pages: immutable, content-addressed block maps.</summary>
public static class SnapshotEndpoints
{
    public static IEndpointRouteBuilder MapSnapshots(this IEndpointRouteBuilder app)
    {
        var snapshots = app.MapGroup("/api/v1/snapshots");
        snapshots.MapGet("/", ListAsync);
        snapshots.MapGet("/{id}", GetAsync);
        snapshots.MapGet("/{id}/root", GetRootAsync);
        snapshots.MapDelete("/{id}", ReleaseAsync);
        snapshots.MapGet("/{id}/profile", GetProfileAsync);
        snapshots.MapPut("/{id}/profile", PutProfileAsync);
        app.MapGet("/api/v1/pages/{digest}", GetPageAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(BlockStore store, CancellationToken ct)
    {
        var list = new List<SnapshotInfo>();
        foreach (var snapshot in await store.ListSnapshotsAsync(ct))
        {
            list.Add(snapshot.ToInfo(await store.GetSnapshotUsersAsync(snapshot.Id, ct)));
        }

        return Results.Json<IReadOnlyList<SnapshotInfo>>(list, ServerJson.Context.IReadOnlyListSnapshotInfo);
    }

    private static async Task<IResult> GetAsync(string id, BlockStore store, CancellationToken ct)
    {
        var snapshot = await store.GetSnapshotAsync(RequestReader.ParseDigest(id, "snapshot id"), ct);
        return Results.Json(snapshot.ToInfo(await store.GetSnapshotUsersAsync(snapshot.Id, ct)), ServerJson.Context.SnapshotInfo);
    }

    private static async Task<IResult> GetRootAsync(string id, BlockStore store, CancellationToken ct) =>
        Results.Bytes(await store.GetRootBytesAsync(RequestReader.ParseDigest(id, "snapshot id"), ct), BlockMapRoot.MediaType);

    private static async Task<IResult> ReleaseAsync(string id, BlockStore store, CancellationToken ct)
    {
        var snapshot = await store.ReleaseSnapshotAsync(RequestReader.ParseDigest(id, "snapshot id"), ct);
        return Results.Json(snapshot.ToInfo(await store.GetSnapshotUsersAsync(snapshot.Id, ct)), ServerJson.Context.SnapshotInfo, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetProfileAsync(string id, BlockStore store, CancellationToken ct) =>
        Results.Json(await store.GetStartupProfileAsync(RequestReader.ParseDigest(id, "snapshot id"), ct), ServerJson.Context.StartupProfile);

    private static async Task<IResult> PutProfileAsync(string id, HttpContext context, BlockStore store)
    {
        var ct = context.RequestAborted;
        var snapshot = RequestReader.ParseDigest(id, "snapshot id");
        var profile = await RequestReader.ReadJsonAsync(context.Request, CoreJsonContext.Default.StartupProfile, ct);
        await store.PutStartupProfileAsync(snapshot, profile, ct);
        return Results.NoContent();
    }

    private static async Task<IResult> GetPageAsync(string digest, BlockStore store, CancellationToken ct) =>
        Results.Bytes(await store.GetPageAsync(RequestReader.ParseDigest(digest, "page digest"), ct), BlockMapRoot.PageMediaType);
}
