using Slacker.Native;

namespace Slacker.Bench.Processes;

/// <summary>Unmounts what a daemon we started left mounted below a directory we own (netns files, overlay2 mounts).</summary>
public static class MountCleanup
{
    public static int UnmountBelow(string directory)
    {
        var root = Path.GetFullPath(directory).TrimEnd('/') + "/";
        var targets = MountTable.MountPointsUnder(root)
            .Where(target => target.StartsWith(root, StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(target => target.Length)
            .ToList();
        foreach (var target in targets)
        {
            _ = Libc.Umount2(target, Libc.MNT_DETACH);
        }

        return targets.Count;
    }
}
