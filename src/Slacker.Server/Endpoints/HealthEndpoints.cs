using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Server.Metrics;

namespace Slacker.Server.Endpoints;

public static class HealthEndpoints
{
    /// <summary>GET /healthz (the stores are opened before Kestrel listens, so answering means ready) and GET /metrics.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/metrics", (ServerMetrics metrics) => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        return app;
    }
}
