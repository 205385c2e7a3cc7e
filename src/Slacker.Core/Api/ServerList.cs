namespace Slacker.Core.Api;

/// <summary>
/// The servers of one cluster, as given to --server or SLACKER_SERVER: <c>URL[,URL...]</c>. All of them serve
/// the same stores, so any may answer any request; the first is the one that error messages and logs name.
/// </summary>
public sealed record ServerList(IReadOnlyList<Uri> Servers)
{
    public Uri Primary => Servers[0];

    public static ServerList Parse(string text)
    {
        var servers = new List<Uri>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var candidate = part.Contains("://", StringComparison.Ordinal) ? part : "http://" + part;
            if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            {
                throw new BlockStoreException(0, ErrorCodes.ServerUnreachable,
                    $"--server '{part}' is not an http(s) URL: write e.g. http://127.0.0.1:7070, or several separated by commas.");
            }

            servers.Add(new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/"));
        }

        return servers.Count > 0
            ? new ServerList(servers)
            : throw new BlockStoreException(0, ErrorCodes.ServerUnreachable, "--server is empty: give at least one server URL.");
    }

    /// <summary>An HttpClient whose requests go to any live server of the list (see <see cref="ServerFailoverHandler"/>).</summary>
    public HttpClient CreateClient(TimeSpan timeout, HttpMessageHandler? inner = null) =>
        Servers.Count == 1 && inner is null
            ? new HttpClient { BaseAddress = Primary, Timeout = timeout }
            : new HttpClient(new ServerFailoverHandler(this, inner ?? new SocketsHttpHandler())) { BaseAddress = Primary, Timeout = timeout };

    public override string ToString() => string.Join(",", Servers.Select(s => s.ToString().TrimEnd('/')));
}
