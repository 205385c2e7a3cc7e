using System.Globalization;

namespace Slacker.Node.Containers;

/// <summary>The process identity a container runs as, after names were looked up in the image.</summary>
public sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string? Home);

/// <summary>
/// Turns docker's user forms (name, uid, name:group, uid:gid) into ids through the image's own /etc/passwd and
/// /etc/group, read inside the container's root so that a symlink in the image cannot point at the host's files.
/// </summary>
public static class UserResolver
{
    public static ResolvedUser Resolve(string rootFs, string? user)
    {
        var spec = string.IsNullOrEmpty(user) ? "0" : user;
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? spec : spec[..colon];
        var groupPart = colon < 0 ? null : spec[(colon + 1)..];

        var passwd = ReadDatabase(rootFs, "/etc/passwd");
        var groups = ReadDatabase(rootFs, "/etc/group");

        uint uid;
        uint gid = 0;
        string? home = null;
        string? userName = null;
        if (uint.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out uid))
        {
            var entry = passwd.FirstOrDefault(e => e.Length >= 7 && e[2] == userPart);
            if (entry is not null)
            {
                userName = entry[0];
                gid = ParseId(entry[3], "/etc/passwd");
                home = entry[5];
            }
        }
        else
        {
            var entry = passwd.FirstOrDefault(e => e.Length >= 7 && e[0] == userPart)
                ?? throw new ContainerException(ContainerErrors.BadRequest,
                    $"User '{userPart}' is not in the image's /etc/passwd; give a numeric uid (e.g. -u 1000) or a user the image has.");
            userName = entry[0];
            uid = ParseId(entry[2], "/etc/passwd");
            gid = ParseId(entry[3], "/etc/passwd");
            home = entry[5];
        }

        if (groupPart is not null)
        {
            if (!uint.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out gid))
            {
                var entry = groups.FirstOrDefault(e => e.Length >= 3 && e[0] == groupPart)
                    ?? throw new ContainerException(ContainerErrors.BadRequest,
                        $"Group '{groupPart}' is not in the image's /etc/group; give a numeric gid or a group the image has.");
                gid = ParseId(entry[2], "/etc/group");
            }
        }

        var additional = new List<uint>();
        if (userName is not null)
        {
            foreach (var entry in groups)
            {
                if (entry.Length >= 4 && entry[3].Split(',').Contains(userName)
                    && uint.TryParse(entry[2], NumberStyles.None, CultureInfo.InvariantCulture, out var member) && member != gid)
                {
                    additional.Add(member);
                }
            }
        }

        return new ResolvedUser(uid, gid, additional, home);
    }

    private static uint ParseId(string text, string file) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new ContainerException(ContainerErrors.BadRequest, $"The image's {file} has a malformed id '{text}'.");

    private static List<string[]> ReadDatabase(string rootFs, string containerPath)
    {
        var path = RootPath.Resolve(rootFs, containerPath);
        if (!File.Exists(path))
        {
            return [];
        }

        var result = new List<string[]>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length > 0 && line[0] != '#')
            {
                result.Add(line.Split(':'));
            }
        }

        return result;
    }
}
