namespace Slacker.Server.Registry;

public enum RegistryRouteKind
{
    Ping,
    Catalog,
    Tags,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Referrers,
}

/// <summary>
/// A /v2 path split into repository and operation. Repository names contain slashes, so the route is found by
/// its last marker ("/manifests/", "/blobs/", ...); what follows a marker never contains a slash.
/// </summary>
public sealed record RegistryRoute(RegistryRouteKind Kind, string Repository, string Argument)
{
    public static RegistryRoute? Parse(string path)
    {
        if (path.Length == 0)
        {
            return new RegistryRoute(RegistryRouteKind.Ping, "", "");
        }

        if (path == "_catalog")
        {
            return new RegistryRoute(RegistryRouteKind.Catalog, "", "");
        }

        if (path.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            return new RegistryRoute(RegistryRouteKind.Tags, path[..^"/tags/list".Length], "");
        }

        if (path.EndsWith("/blobs/uploads", StringComparison.Ordinal) || path.EndsWith("/blobs/uploads/", StringComparison.Ordinal))
        {
            return new RegistryRoute(RegistryRouteKind.UploadStart, path[..path.LastIndexOf("/blobs/uploads", StringComparison.Ordinal)], "");
        }

        foreach (var (marker, kind) in new[]
        {
            ("/blobs/uploads/", RegistryRouteKind.Upload),
            ("/manifests/", RegistryRouteKind.Manifest),
            ("/referrers/", RegistryRouteKind.Referrers),
            ("/blobs/", RegistryRouteKind.Blob),
        })
        {
            var at = path.LastIndexOf(marker, StringComparison.Ordinal);
            if (at > 0)
            {
                var argument = path[(at + marker.Length)..];
                if (argument.Length > 0 && !argument.Contains('/', StringComparison.Ordinal))
                {
                    return new RegistryRoute(kind, path[..at], argument);
                }
            }
        }

        return null;
    }
}
