using System.Globalization;
using System.Text;

namespace Slacker.Native;

/// <summary>One line of /proc/self/mountinfo.</summary>
public sealed record MountEntry(int MountId, uint DeviceMajor, uint DeviceMinor, string MountPoint, string FsType, string Source);

/// <summary>Reads /proc/self/mountinfo (proc(5)): the kernel's view of this mount namespace.</summary>
public static class MountTable
{
    public static IReadOnlyList<MountEntry> Read(string path = "/proc/self/mountinfo") => Parse(File.ReadAllLines(path));

    /// <summary>The mount points at or below <paramref name="root"/>, in mount order (parents before children).</summary>
    public static IReadOnlyList<string> MountPointsUnder(string root) =>
        [.. Read().Select(entry => entry.MountPoint).Where(mountPoint => IsAtOrUnder(mountPoint, root))];

    public static IReadOnlyList<MountEntry> Parse(IEnumerable<string> lines)
    {
        var entries = new List<MountEntry>();
        foreach (var line in lines)
        {
            // 36 35 0:52 / /mnt/x rw,nosuid,nodev - fuse.slacker slacker rw,user_id=0,...
            var fields = line.Split(' ');
            var separator = fields.Length < 10 ? -1 : Array.IndexOf(fields, "-", 6);
            if (separator < 0 || separator + 2 >= fields.Length)
            {
                continue;
            }

            var device = fields[2].Split(':');
            if (device.Length != 2
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var mountId)
                || !uint.TryParse(device[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
                || !uint.TryParse(device[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            {
                continue;
            }

            entries.Add(new MountEntry(
                mountId, major, minor, Unescape(fields[4]), Unescape(fields[separator + 1]), Unescape(fields[separator + 2])));
        }

        return entries;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in paths as \ooo octal escapes.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        var raw = Encoding.UTF8.GetBytes(field);
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

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or lies beneath it (path-wise, not string-wise).</summary>
    public static bool IsAtOrUnder(string path, string root)
    {
        var trimmed = root.Length > 1 ? root.TrimEnd('/') : root;
        if (trimmed == "/")
        {
            return path.StartsWith('/');
        }

        return path == trimmed || path.StartsWith(trimmed + "/", StringComparison.Ordinal);
    }

    private static bool IsOctal(byte value) => value is >= (byte)'0' and <= (byte)'7';
}
