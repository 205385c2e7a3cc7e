using Slacker.Bench.Native;

namespace Slacker.Bench.Processes;

/// <summary>Unmounts what a daemon we started left mounted below a directory we own (netns files, overlay2 mounts).</summary>
public static class MountCleanup
{
    private const int MntDetach = 2;

    public static int UnmountBelow(string directory)
    {
        var root = Path.GetFullPath(directory).TrimEnd('/') + "/";
        var targets = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(target => target.StartsWith(root, StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(target => target.Length)
            .ToList();
        foreach (var target in targets)
        {
            _ = LibC.Umount2(target, MntDetach);
        }

        return targets.Count;
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
