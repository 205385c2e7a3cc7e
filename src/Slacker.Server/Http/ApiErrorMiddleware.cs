using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Storage;
using Slacker.Server.Storage.S3;

namespace Slacker.Server.Http;

/// <summary>
/// Turns every failure into the API's error document <c>{"error", "message"}</c>: engine errors keep their
/// code, Kestrel's body errors become BODY_TRUNCATED / BODY_TOO_LARGE, and anything unexpected is a 500 that
/// is logged. A failed backend (S3, PostgreSQL) is a 503, so that clients fail over. If the answer has already started there is nothing to write, so the connection is cut, which a
/// client sees as a broken answer rather than a wrong one.
/// </summary>
internal sealed class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BlockStoreException e)
        {
            await WriteAsync(context, e.StatusCode, e.Code, e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, 413, ErrorCodes.BodyTooLarge, $"the request body is larger than this call allows ({e.Message}): split it into smaller requests.");
        }
        catch (BadHttpRequestException e)
        {
            var error = BlockStoreErrors.BodyTruncated(context.Request.ContentLength, e.Message);
            await WriteAsync(context, error.StatusCode, error.Code, error.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (or half-closed mid-body, which HTTP/1.1 treats alike): nobody is listening for an answer.
        }
        catch (CorruptObjectException e)
        {
            logger.LogError("{Method} {Path}: {Message}", context.Request.Method, context.Request.Path, e.Message);
            await WriteAsync(context, 500, ErrorCodes.ObjectCorrupt, e.Message);
        }
        catch (Exception e) when (e is S3UnavailableException or Npgsql.NpgsqlException or TimeoutException)
        {
            // A backend of the cluster failed, not this request: 503 tells clients to retry, or to try another server.
            logger.LogWarning("{Method} {Path}: backend unavailable: {Message}", context.Request.Method, context.Request.Path, e.Message);
            await WriteAsync(context, 503, ErrorCodes.BackendUnavailable, $"a storage backend is unavailable: {e.Message}");
        }
        catch (Exception e)
        {
            logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteAsync(context, 500, ErrorCodes.Internal, $"the server failed: {e.GetType().Name}: {e.Message}. See the server log; run `slacker fsck` if it mentions storage.");
        }
    }

    private static async Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ApiError(code, message), ServerJson.Context.ApiError);
    }
}
