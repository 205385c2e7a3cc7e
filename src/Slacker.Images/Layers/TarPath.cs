namespace Slacker.Images.Layers;

/// <summary>
/// A layer entry's path, normalised: relative to the root, no empty or "." components, never "..". The empty
/// path is the root itself. Absolute paths are refused rather than silently re-rooted, because a layer built by
/// docker or buildkit never has them and an attacker's layer does.
/// </summary>
public static class TarPath
{
    public const string WhiteoutPrefix = ".wh.";
    public const string OpaqueMarker = ".wh..wh..opq";
    public const string WhiteoutMetaPrefix = ".wh..wh.";

    /// <summary>Normalises <paramref name="name"/>, or returns the rule it breaks.</summary>
    public static LayerRule? TryNormalize(string name, out string normalized, out string? problem)
    {
        normalized = "";
        problem = null;
        if (name.Length == 0)
        {
            problem = "the entry has an empty name";
            return LayerRule.MalformedTar;
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            problem = "the name contains a NUL byte";
            return LayerRule.MalformedTar;
        }

        if (name[0] == '/')
        {
            problem = "the path is absolute; layer paths are relative to the image root";
            return LayerRule.AbsolutePath;
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                problem = "the path contains '..', which would climb out of the image root";
                return LayerRule.PathTraversal;
            }

            if (part.Length > 255)
            {
                problem = $"a path component is {part.Length} bytes long; the limit is 255";
                return LayerRule.MalformedTar;
            }

            parts.Add(part);
        }

        normalized = string.Join('/', parts);
        return null;
    }

    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    public static string Name(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? path : path[(slash + 1)..];
    }

    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    /// <summary>True if a symlink at <paramref name="linkPath"/> with <paramref name="target"/> resolves, lexically, outside the root.</summary>
    public static bool LeadsOutside(string linkPath, string target)
    {
        if (target.StartsWith('/'))
        {
            return true;
        }

        var depth = Parent(linkPath).Length == 0 ? 0 : Parent(linkPath).Split('/').Length;
        foreach (var part in target.Split('/'))
        {
            if (part == "..")
            {
                if (--depth < 0)
                {
                    return true;
                }
            }
            else if (part.Length > 0 && part != ".")
            {
                depth++;
            }
        }

        return false;
    }
}
