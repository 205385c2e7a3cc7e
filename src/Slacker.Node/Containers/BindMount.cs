namespace Slacker.Node.Containers;

/// <summary>A -v HOST:CONTAINER[:ro|rw] bind mount.</summary>
public sealed record BindMount(string HostPath, string ContainerPath, bool ReadOnly)
{
    public static BindMount Parse(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new ContainerException(ContainerErrors.BadRequest,
                $"Bind mount '{spec}' is not HOST:CONTAINER[:ro]; write e.g. -v /srv/data:/data:ro.");
        }

        var readOnly = false;
        if (parts.Length == 3)
        {
            readOnly = parts[2] switch
            {
                "ro" => true,
                "rw" => false,
                _ => throw new ContainerException(ContainerErrors.BadRequest,
                    $"Bind mount '{spec}' has mode '{parts[2]}'; the mode is 'ro' or 'rw'."),
            };
        }

        if (!Path.IsPathRooted(parts[0]) || !Path.IsPathRooted(parts[1]))
        {
            throw new ContainerException(ContainerErrors.BadRequest,
                $"Bind mount '{spec}' needs absolute paths on both sides (named volumes are not supported).");
        }

        if (!Path.Exists(parts[0]))
        {
            throw new ContainerException(ContainerErrors.BadRequest,
                $"Bind mount source '{parts[0]}' does not exist on this host; create it first.");
        }

        if (parts[1] == "/")
        {
            throw new ContainerException(ContainerErrors.BadRequest, $"Bind mount '{spec}' cannot replace the container's root.");
        }

        return new BindMount(Path.GetFullPath(parts[0]), parts[1], readOnly);
    }
}
