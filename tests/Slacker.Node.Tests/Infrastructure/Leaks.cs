using Slacker.Native;

namespace Slacker.Node.Tests.Infrastructure;

/// <summary>Mounts and loop devices that still refer to a node root (what a test must never leave behind).</summary>
internal static class Leaks
{
    public static List<string> Under(string root)
    {
        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        var leaks = Mounts.Below(root).Select(mountPoint => "mount " + mountPoint).ToList();

        foreach (var number in LoopDevice.BoundDevices())
        {
            if (LoopDevice.BackingFile(number) is { } backing && backing.StartsWith(prefix, StringComparison.Ordinal))
            {
                leaks.Add($"/dev/loop{number} -> {backing}");
            }
        }

        return leaks;
    }
}
