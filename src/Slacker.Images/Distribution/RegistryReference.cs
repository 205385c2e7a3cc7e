using System.Net;
using Slacker.Core.Model;

namespace Slacker.Images.Distribution;

/// <summary>
/// <c>HOST[:PORT]/REPO[:TAG|@DIGEST]</c>, with docker's rules: a first component with a dot or colon (or
/// "localhost") is a registry host, anything else is on Docker Hub. Plain http is spoken to loopback hosts,
/// and to any host when <see cref="Insecure"/> is set.
/// </summary>
public sealed record RegistryReference(string Host, string Repository, string? Tag, Digest? Digest, bool Insecure)
{
    public const string DockerHub = "docker.io";
    public const string DockerHubApiHost = "registry-1.docker.io";

    public string Reference => Digest?.ToString() ?? Tag ?? "latest";

    public Uri BaseUri
    {
        get
        {
            var host = Host == DockerHub ? DockerHubApiHost : Host;
            return new Uri((UsesHttp ? "http://" : "https://") + host + "/");
        }
    }

    public bool UsesHttp => Insecure || IsLoopback(Host);

    public static RegistryReference Parse(string text, bool insecure = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? digestText = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digestText = text[(at + 1)..];
            text = text[..at];
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        string host;
        string rest;
        if (slash > 0 && (text[..slash].Contains('.', StringComparison.Ordinal) || text[..slash].Contains(':', StringComparison.Ordinal) || text[..slash] == "localhost"))
        {
            host = text[..slash];
            rest = text[(slash + 1)..];
        }
        else
        {
            host = DockerHub;
            rest = text;
        }

        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        if (host == DockerHub && !rest.Contains('/', StringComparison.Ordinal))
        {
            rest = "library/" + rest;
        }

        if (!RepositoryName.IsValid(rest))
        {
            throw new FormatException($"'{rest}' is not a valid repository name: use lowercase letters, digits and separators (. _ - /), e.g. 127.0.0.1:7070/team/app:1.0.");
        }

        if (tag is not null && !RepositoryName.IsValidTag(tag))
        {
            throw new FormatException($"'{tag}' is not a valid tag: up to 128 of [A-Za-z0-9_.-], not starting with . or -.");
        }

        Digest? digest = null;
        if (digestText is not null)
        {
            digest = Core.Model.Digest.TryParse(digestText, out var d)
                ? d
                : throw new FormatException($"'{digestText}' is not a digest: expected sha256: and 64 lowercase hex digits.");
        }

        return new RegistryReference(host, rest, tag ?? (digest is null ? "latest" : null), digest, insecure);
    }

    public static bool IsLoopback(string host)
    {
        var name = host;
        if (name.StartsWith('['))
        {
            var close = name.IndexOf(']', StringComparison.Ordinal);
            name = close > 0 ? name[1..close] : name;
        }
        else if (name.Count(c => c == ':') == 1)
        {
            name = name[..name.IndexOf(':', StringComparison.Ordinal)];
        }

        return name == "localhost" || (IPAddress.TryParse(name, out var ip) && IPAddress.IsLoopback(ip));
    }

    public override string ToString() => $"{Host}/{Repository}" + (Digest is { } d ? "@" + d : ":" + Tag);
}
