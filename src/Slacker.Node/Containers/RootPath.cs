namespace Slacker.Node.Containers;

/// <summary>
/// Resolves a path inside a container's root file system the way the container would see it: symlinks are
/// followed relative to the root, and ".." never climbs above it. The image is untrusted, so a symlink such
/// as /etc/passwd -> /host/secret must never make the node read or write outside the root.
/// </summary>
public static class RootPath
{
    private const int MaxSymlinks = 40;

    public static string Resolve(string root, string containerPath)
    {
        var remaining = new Stack<string>(Split(containerPath).Reverse());
        var resolved = new List<string>();
        var links = 0;
        while (remaining.Count > 0)
        {
            var part = remaining.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var candidate = Path.Join(root, string.Join('/', resolved), part);
            var info = new FileInfo(candidate);
            if (info.LinkTarget is { } target)
            {
                if (++links > MaxSymlinks)
                {
                    throw new ContainerException(ContainerErrors.BadRequest,
                        $"Too many symbolic links while resolving '{containerPath}' in the image.");
                }

                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                }

                foreach (var next in Split(target).Reverse())
                {
                    remaining.Push(next);
                }

                continue;
            }

            resolved.Add(part);
        }

        return Path.Join(root, string.Join('/', resolved));
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
