using System.Text;

namespace Slacker.Node.Attach;

/// <summary>One mount of /proc/self/mountinfo, as far as stale-mount cleanup needs it.</summary>
internal sealed record MountInfo(int MountId, string MountPoint, string FsType, string Source)
{
    public static IReadOnlyList<MountInfo> Read() => Parse(File.ReadAllLines("/proc/self/mountinfo"));

    public static IReadOnlyList<MountInfo> Parse(IEnumerable<string> lines)
    {
        var mounts = new List<MountInfo>();
        foreach (var line in lines)
        {
            // 36 35 98:0 / /mnt/x rw,noatime master:1 - ext4 /dev/loop0 rw
            var fields = line.Split(' ');
            var separator = fields.Length > 6 ? Array.IndexOf(fields, "-", 6) : -1;
            if (separator < 0 || separator + 2 >= fields.Length || !int.TryParse(fields[0], out var id))
            {
                continue;
            }

            mounts.Add(new MountInfo(id, Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2])));
        }

        return mounts;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> itself or below it.</summary>
    public static bool IsAtOrUnder(string path, string root)
    {
        var trimmed = root.TrimEnd('/');
        return path == trimmed || path.StartsWith(trimmed + "/", StringComparison.Ordinal);
    }

    /// <summary>The kernel escapes space, tab, newline and backslash in paths as \ooo.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var raw = Encoding.UTF8.GetBytes(field);
        var bytes = new List<byte>(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
