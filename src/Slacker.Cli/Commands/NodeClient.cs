using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Slacker.Core.Api;
using Slacker.Node.Agent;

// The node agent and its client are Linux-only (unix sockets, FUSE, loop devices, OCI runtimes); so is the CLI.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Slacker.Cli.Commands;

/// <summary>
/// The CLI's side of the node API: HTTP/1.1 (and the attach WebSocket) over the node's unix socket. Every failure
/// becomes a <see cref="NodeApiException"/> whose message says what to do.
/// </summary>
public sealed class NodeClient : IDisposable
{
    public static readonly Option<string> SocketOption = new("--socket")
    {
        Description = "The node agent's unix socket (env SLACKER_NODE_SOCKET).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SLACKER_NODE_SOCKET") is { Length: > 0 } fromEnv ? fromEnv : NodeAgentOptions.DefaultSocket,
    };

    private static readonly Uri BaseAddress = new("http://slacker-node/");
    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _http;

    public string SocketPath { get; }

    public NodeClient(string socketPath)
    {
        SocketPath = socketPath;
        _handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public static NodeClient For(ParseResult parse) => new(parse.GetValue(SocketOption)!);

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadAsync(response, type, ct);
    }

    public async Task<TResponse> PostAsync<TRequest, TResponse>(string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent(body, requestType) };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadAsync(response, responseType, ct);
    }

    public async Task<T> PostAsync<T>(string path, JsonTypeInfo<T> responseType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return await ReadAsync(response, responseType, ct);
    }

    public async Task PostAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
    }

    public async Task DeleteAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
    }

    /// <summary>A streamed response body (logs -f); the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> StreamAsync(string path, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>Opens the attach WebSocket (before the container starts, so that no output is missed).</summary>
    public async Task<ClientWebSocket> AttachAsync(string id, bool stdin, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            using var invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
            await socket.ConnectAsync(new Uri($"ws://slacker-node/v1/containers/{Uri.EscapeDataString(id)}/attach?stdin={(stdin ? "true" : "false")}"), invoker, ct);
            return socket;
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException)
        {
            socket.Dispose();
            throw Unreachable(e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            ApiError? error = null;
            try
            {
                error = JsonSerializer.Deserialize(body, AgentJsonContext.Default.ApiError);
            }
            catch (JsonException)
            {
            }

            throw new NodeApiException((int)response.StatusCode, error?.Error ?? "HTTP_" + (int)response.StatusCode,
                error?.Message ?? $"The node answered HTTP {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body).Trim()}");
        }
    }

    private NodeApiException Unreachable(Exception e)
    {
        var socketError = (e.InnerException as SocketException ?? e as SocketException)?.SocketErrorCode;
        var message = socketError switch
        {
            SocketError.AccessDenied => $"Permission denied on the node's socket {SocketPath}: it is root-only; run this as root.",
            SocketError.AddressNotAvailable or SocketError.ConnectionRefused => $"No slacker node is listening on {SocketPath}; start one ('slacker node', as root) or point at it with --socket.",
            _ when !File.Exists(SocketPath) => $"No slacker node is listening on {SocketPath} (no such socket); start one ('slacker node', as root) or point at it with --socket.",
            _ => $"Cannot reach the slacker node on {SocketPath}: {e.Message}",
        };
        return new NodeApiException(0, "NODE_UNREACHABLE", message, e);
    }

    private static ByteArrayContent JsonContent<T>(T body, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, type));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        return await JsonSerializer.DeserializeAsync(stream, type, ct)
            ?? throw new NodeApiException((int)response.StatusCode, "EMPTY", "The node sent an empty answer.");
    }

    /// <summary>Runs a command body; node errors become one "slacker: ..." line and <paramref name="failureCode"/>.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body, int failureCode = 1)
    {
        try
        {
            return await CliGlobals.RunAsync(body);
        }
        catch (NodeApiException e)
        {
            await Console.Error.WriteLineAsync($"slacker: {e.Message}");
            return failureCode;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _handler.Dispose();
    }
}

/// <summary>A node API call that failed; Code is the API's error code (or NODE_UNREACHABLE).</summary>
public sealed class NodeApiException(int statusCode, string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;

    public string Code { get; } = code;
}
