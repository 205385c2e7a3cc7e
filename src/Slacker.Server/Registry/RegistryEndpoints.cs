using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Slacker.Server.Storage;

namespace Slacker.Server.Registry;

/// <summary>/v2: the OCI Distribution API, so docker, podman, skopeo and crane can push and pull here.</summary>
public static class RegistryEndpoints
{
    public static IEndpointRouteBuilder MapRegistry(this IEndpointRouteBuilder app)
    {
        var stores = app.ServiceProvider.GetRequiredService<ServerStores>();
        var api = new RegistryApi(stores, stores.Registry);
        app.Map("/v2", (HttpContext context) => api.HandleAsync(context, ""));
        app.Map("/v2/{**path}", (HttpContext context, string? path) => api.HandleAsync(context, path ?? ""));
        return app;
    }
}
