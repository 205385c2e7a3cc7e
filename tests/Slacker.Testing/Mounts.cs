namespace Slacker.Testing;

/// <summary>The mounts of this mount namespace at or below a directory a test owns (what it must not leave behind).</summary>
public static class Mounts
{
    /// <summary>Mount points at or below <paramref name="root"/>, parents before children.</summary>
    public static IReadOnlyList<string> Below(string root)
    {
        var full = Path.GetFullPath(root).TrimEnd('/');
        return [.. File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(m => m == full || m.StartsWith(full + "/", StringComparison.Ordinal))];
    }

    /// <summary>Lazily unmounts everything at or below <paramref name="root"/>, children first.</summary>
    public static async Task UnmountBelowAsync(string root)
    {
        foreach (var mount in Below(root).Reverse())
        {
            await Tool.RunRawAsync("umount", null, "-l", mount);
        }
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var result = new System.Text.StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                result.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                result.Append(field[i]);
            }
        }

        return result.ToString();
    }
}
