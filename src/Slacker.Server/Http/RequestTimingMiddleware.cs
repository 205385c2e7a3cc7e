using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slacker.Server.Metrics;

namespace Slacker.Server.Http;

/// <summary>Times every request into a histogram labelled by its route template (not its URL, to bound label cardinality).</summary>
internal sealed class RequestTimingMiddleware(RequestDelegate next, ServerMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            metrics.ObserveRequest(context.Request.Method, route, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }
}
