using Slacker.Images.Distribution;

namespace Slacker.Images.Import;

/// <summary>
/// NAME[:TAG] on the default Slacker server, or HOST[:PORT]/REPO[:TAG] on any registry (the first component
/// has a dot or a colon, or is "localhost", as docker decides).
/// </summary>
public sealed record ImageName(string? Host, string Repository, string Tag)
{
    public bool IsOnDefaultServer => Host is null;

    public static ImageName Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        string? host = null;
        var rest = text;
        if (slash > 0 && (text[..slash].Contains('.', StringComparison.Ordinal) || text[..slash].Contains(':', StringComparison.Ordinal) || text[..slash] == "localhost"))
        {
            host = text[..slash];
            rest = text[(slash + 1)..];
        }

        var tag = "latest";
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        if (!RepositoryName.IsValid(rest))
        {
            throw new FormatException($"'{rest}' is not a valid image name: use lowercase letters, digits and . _ - / separators, e.g. team/app:1.0.");
        }

        if (!RepositoryName.IsValidTag(tag))
        {
            throw new FormatException($"'{tag}' is not a valid tag: up to 128 of [A-Za-z0-9_.-], not starting with . or -.");
        }

        return new ImageName(host, rest, tag);
    }

    public override string ToString() => (Host is null ? "" : Host + "/") + Repository + ":" + Tag;
}
