using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Core.Api;
using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

/// <summary>The node's HTTP API on its unix socket (docs/API.md, "Node API").</summary>
public static class NodeApi
{
    public static void Map(IEndpointRouteBuilder app, NodeAgent node)
    {
        var manager = node.Containers;
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/v1/info", () => Json(node.Info(), AgentJsonContext.Default.NodeInfo));

        app.MapGet("/v1/containers", (HttpContext http) =>
            Json(manager.List(all: Flag(http, "all")), AgentJsonContext.Default.IReadOnlyListContainerRecord));

        // Two parameters on purpose: a lambda of HttpContext alone binds to the RequestDelegate overload, whose
        // Task<IResult> is never executed once the endpoint is compiled ahead of time (the body comes back empty).
        app.MapPost("/v1/containers", async (HttpContext http, CancellationToken ct) =>
        {
            var config = await ReadAsync(http, AgentJsonContext.Default.ContainerConfig);
            var record = await manager.CreateAsync(config, ct);
            return Json(record, AgentJsonContext.Default.ContainerRecord, StatusCodes.Status201Created);
        });

        app.MapGet("/v1/containers/{id}", (string id) => Json(manager.Get(id), AgentJsonContext.Default.ContainerRecord));

        app.MapPost("/v1/containers/{id}/start", async (string id, HttpContext http) =>
        {
            await manager.StartAsync(id, http.RequestAborted);
            return Results.NoContent();
        });

        app.MapPost("/v1/containers/{id}/stop", async (string id, HttpContext http) =>
        {
            var seconds = http.Request.Query.TryGetValue("t", out var t) && int.TryParse(t, CultureInfo.InvariantCulture, out var s) && s >= 0 ? s : 10;
            await manager.StopAsync(id, TimeSpan.FromSeconds(seconds), http.RequestAborted);
            return Results.NoContent();
        });

        app.MapPost("/v1/containers/{id}/kill", async (string id, HttpContext http) =>
        {
            var signal = http.Request.Query.TryGetValue("signal", out var v) && !string.IsNullOrEmpty(v) ? v.ToString() : "KILL";
            await manager.KillAsync(id, signal, http.RequestAborted);
            return Results.NoContent();
        });

        app.MapPost("/v1/containers/{id}/wait", async (string id, HttpContext http) =>
        {
            var record = await manager.WaitAsync(id, http.RequestAborted);
            return Json(new WaitResponse(record.ExitCode, record.Error), AgentJsonContext.Default.WaitResponse);
        });

        app.MapDelete("/v1/containers/{id}", async (string id, HttpContext http) =>
        {
            await manager.RemoveAsync(id, Flag(http, "force"), http.RequestAborted);
            return Results.NoContent();
        });

        app.MapGet("/v1/containers/{id}/logs", (string id, HttpContext http) => LogsEndpoint.StreamAsync(http, manager, id));

        app.Map("/v1/containers/{id}/attach", (string id, HttpContext http) => AttachEndpoint.RunAsync(http, manager, id));

        app.MapPost("/v1/containers/{id}/commit", async (string id, HttpContext http) =>
        {
            var request = await ReadAsync(http, AgentJsonContext.Default.CommitRequest);
            return Json(await node.CommitAsync(id, request, http.RequestAborted), AgentJsonContext.Default.CommitResponse, StatusCodes.Status201Created);
        });

        app.MapGet("/v1/containers/{id}/stats", async (string id, HttpContext http) =>
            Json(await node.Roots.StatsAsync(manager.Get(id), http.RequestAborted), AgentJsonContext.Default.ContainerStats));

        app.MapPost("/v1/cache/prune", () => Json(node.PruneCache(), AgentJsonContext.Default.PruneCacheResponse));
    }

    /// <summary>Every failure becomes {"error", "message"} with a status that says whose fault it was.</summary>
    public static async Task HandleErrorsAsync(HttpContext http, Func<Task> next, Microsoft.Extensions.Logging.ILogger logger)
    {
        try
        {
            await next();
        }
        catch (ContainerException e) when (!http.Response.HasStarted)
        {
            await WriteErrorAsync(http, StatusOf(e.Code), e.Code, e.Message);
        }
        catch (BlockStoreException e) when (!http.Response.HasStarted)
        {
            await WriteErrorAsync(http, e.StatusCode is >= 400 and < 500 ? StatusCodes.Status400BadRequest : StatusCodes.Status502BadGateway, e.Code, e.Message);
        }
        catch (JsonException e) when (!http.Response.HasStarted)
        {
            await WriteErrorAsync(http, StatusCodes.Status400BadRequest, ContainerErrors.BadRequest, $"The request body is not valid JSON: {e.Message}");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogError(logger, e, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
            await WriteErrorAsync(http, StatusCodes.Status500InternalServerError, "INTERNAL", $"The node failed: {e.Message}");
        }
    }

    private static int StatusOf(string code) => code switch
    {
        ContainerErrors.ContainerUnknown or ContainerErrors.ImageUnknown => StatusCodes.Status404NotFound,
        ContainerErrors.NameInUse or ContainerErrors.Conflict => StatusCodes.Status409Conflict,
        ContainerErrors.ServerUnreachable => StatusCodes.Status502BadGateway,
        ContainerErrors.RuntimeFailed => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };

    private static async Task WriteErrorAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(http.Response.Body, new ApiError(code, message), AgentJsonContext.Default.ApiError);
    }

    /// <summary>A boolean query parameter: 1 or true in any case (bool.ToString() writes "True").</summary>
    internal static bool Flag(HttpContext http, string name) =>
        http.Request.Query.TryGetValue(name, out var value) && (value == "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase));

    private static async Task<T> ReadAsync<T>(HttpContext http, JsonTypeInfo<T> type) =>
        await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted)
        ?? throw new ContainerException(ContainerErrors.BadRequest, "The request body is empty; send a JSON document.");

    private static IResult Json<T>(T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        Results.Json(value, type, statusCode: status);
}
