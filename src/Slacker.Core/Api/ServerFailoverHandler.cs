using System.Net;
using System.Net.Sockets;

namespace Slacker.Core.Api;

/// <summary>
/// Sends each request to one server of a <see cref="ServerList"/> and, when that server cannot be reached or
/// answers 502/503/504, to the next, until every server was tried once. Requests are written against the list's
/// first server; this handler swaps the authority. A working server stays chosen (requests of one node land on
/// one server, whose read cache they share) until it fails; each process starts at a random server so that
/// nodes spread across the cluster.
/// </summary>
/// <remarks>
/// Replaying a request is safe because every server API is idempotent: chunk and blob puts are content-addressed,
/// map updates set entries, volume creates carry their id, and a snapshot's id is its root's digest.
/// A request whose body is a one-shot stream is replayed only when the failure happened before it was sent.
/// </remarks>
public sealed class ServerFailoverHandler : DelegatingHandler
{
    private readonly ServerList _servers;
    private int _current;

    public ServerFailoverHandler(ServerList servers, HttpMessageHandler inner)
        : base(inner)
    {
        _servers = servers;
        _current = Random.Shared.Next(servers.Servers.Count);
    }

    /// <summary>The server that requests go to now.</summary>
    public Uri Current => _servers.Servers[Volatile.Read(ref _current)];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri ?? throw new InvalidOperationException("A request needs a URI.");
        var relative = _servers.Primary.IsBaseOf(original) ? _servers.Primary.MakeRelativeUri(original) : null;
        if (relative is null)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var count = _servers.Servers.Count;
        var start = Volatile.Read(ref _current);
        for (var attempt = 0; ; attempt++)
        {
            var index = (start + attempt) % count;
            request.RequestUri = new Uri(_servers.Servers[index], relative);
            var last = attempt == count - 1;
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (last || response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
                    || !IsReplayable(request))
                {
                    Volatile.Write(ref _current, index);
                    return response;
                }

                response.Dispose();
            }
            catch (HttpRequestException e) when (!last && (IsReplayable(request) || NothingSent(e)))
            {
                // Try the next server.
            }
        }
    }

    private static bool IsReplayable(HttpRequestMessage request) =>
        request.Content is null or ByteArrayContent or ReadOnlyMemoryContent or System.Net.Http.Json.JsonContent;

    private static bool NothingSent(HttpRequestException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TimedOut };
}
