using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Server.Endpoints;
using Slacker.Server.Http;
using Slacker.Server.Metrics;
using Slacker.Server.Storage;

namespace Slacker.Server;

/// <summary>
/// Builds and starts the Kestrel host: opens the stores first (so answering /healthz means ready), then serves
/// the endpoint groups of <see cref="ServerEndpoints"/>. Used by `slacker server` and by the tests, which pass
/// port 0 and read the bound address back.
/// </summary>
public sealed class SlackerServerHost : IAsyncDisposable
{
    /// <summary>JSON bodies (missing-chunk queries, map updates) may be this large; chunk uploads check their own 1 MiB.</summary>
    public const long MaxRequestBodyBytes = 64L * 1024 * 1024;

    private readonly WebApplication _app;

    private SlackerServerHost(WebApplication app, ServerStores stores, Uri address)
    {
        _app = app;
        Stores = stores;
        Address = address;
    }

    public ServerStores Stores { get; }

    /// <summary>The bound address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<SlackerServerHost> StartAsync(ServerOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken ct = default)
    {
        var endpoint = ServerOptions.ParseListen(options.Listen);
        var stores = await ServerStores.OpenAsync(options.Stores, readOnly: false, ct);
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(kestrel =>
            {
                kestrel.Listen(endpoint);
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
            logging?.Invoke(builder.Logging);
            builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CoreJsonContext.Default));
            AddServices(builder.Services, stores, options);

            var app = builder.Build();
            app.UseMiddleware<RequestTimingMiddleware>();
            app.UseMiddleware<ApiErrorMiddleware>();
            app.MapSlackerEndpoints();
            await app.StartAsync(ct);

            var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new SlackerServerHost(app, stores, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
        }
        catch
        {
            await stores.DisposeAsync();
            throw;
        }
    }

    /// <summary>The services the endpoint groups take as parameters. New APIs register theirs here too.</summary>
    public static void AddServices(IServiceCollection services, ServerStores stores, ServerOptions options)
    {
        services.AddSingleton(stores);
        services.AddSingleton(stores.Metadata);
        services.AddSingleton(_ => stores.CreateEngine());
        services.AddSingleton(_ => stores.CreateCollector(options.GcGrace));
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton(options);
    }

    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Stores.DisposeAsync();
    }
}
