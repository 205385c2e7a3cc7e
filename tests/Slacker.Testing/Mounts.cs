using Slacker.Native;

namespace Slacker.Testing;

/// <summary>The mounts of this mount namespace at or below a directory a test owns (what it must not leave behind).</summary>
public static class Mounts
{
    /// <summary>Mount points at or below <paramref name="root"/>, parents before children.</summary>
    public static IReadOnlyList<string> Below(string root) => MountTable.MountPointsUnder(Path.GetFullPath(root));

    /// <summary>Lazily unmounts everything at or below <paramref name="root"/>, children first.</summary>
    public static async Task UnmountBelowAsync(string root)
    {
        foreach (var mount in Below(root).Reverse())
        {
            await Tool.RunRawAsync("umount", null, "-l", mount);
        }
    }
}
