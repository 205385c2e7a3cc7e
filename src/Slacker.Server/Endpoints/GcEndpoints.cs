using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Core.Api;
using Slacker.Core.Engine;
using Slacker.Server.Http;

namespace Slacker.Server.Endpoints;

public static class GcEndpoints
{
    /// <summary>POST /api/v1/gc: one mark-and-sweep pass; concurrent calls queue behind the running one.</summary>
    public static IEndpointRouteBuilder MapGc(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/gc", async (GarbageCollector gc) =>
            Results.Json(await gc.RunAsync(CancellationToken.None), ServerJson.Context.GcReport));
        return app;
    }
}
