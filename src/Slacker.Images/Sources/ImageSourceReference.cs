namespace Slacker.Images.Sources;

public enum ImageTransport
{
    DockerArchive,
    OciLayout,
    Registry,
}

/// <summary>
/// A SOURCE in skopeo's transport syntax: <c>docker-archive:PATH[:REF]</c>, <c>oci:PATH[:REF]</c> or
/// <c>docker://HOST[:PORT]/REPO[:TAG|@DIGEST]</c>.
/// </summary>
public sealed record ImageSourceReference(ImageTransport Transport, string Path, string? Reference)
{
    public static ImageSourceReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("docker://", StringComparison.Ordinal))
        {
            var rest = text["docker://".Length..];
            if (rest.Length == 0)
            {
                throw new FormatException("'docker://' needs an image: docker://HOST[:PORT]/REPO:TAG.");
            }

            return new ImageSourceReference(ImageTransport.Registry, rest, null);
        }

        foreach (var (prefix, transport) in new[] { ("docker-archive:", ImageTransport.DockerArchive), ("oci:", ImageTransport.OciLayout) })
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                var rest = text[prefix.Length..];
                var colon = rest.IndexOf(':', StringComparison.Ordinal);
                var path = colon < 0 ? rest : rest[..colon];
                var reference = colon < 0 ? null : rest[(colon + 1)..];
                if (path.Length == 0)
                {
                    throw new FormatException($"'{text}' names no path: write {prefix}PATH[:REF].");
                }

                return new ImageSourceReference(transport, path, string.IsNullOrEmpty(reference) ? null : reference);
            }
        }

        throw new FormatException($"'{text}' is not an image source: use docker-archive:PATH, oci:PATH[:REF] or docker://HOST/REPO:TAG.");
    }

    public override string ToString() => Transport switch
    {
        ImageTransport.Registry => "docker://" + Path,
        ImageTransport.DockerArchive => "docker-archive:" + Path + (Reference is null ? "" : ":" + Reference),
        _ => "oci:" + Path + (Reference is null ? "" : ":" + Reference),
    };
}
