using Microsoft.AspNetCore.Routing;
using Slacker.Server.Registry;

namespace Slacker.Server.Endpoints;

/// <summary>The one list of endpoint groups the server serves. A new API (e.g. the OCI registry) adds its MapXxx here.</summary>
public static class ServerEndpoints
{
    public static IEndpointRouteBuilder MapSlackerEndpoints(this IEndpointRouteBuilder app) =>
        app.MapHealth()
            .MapChunks()
            .MapVolumes()
            .MapSnapshots()
            .MapGc()
            .MapRegistry();
}
