using Slacker.Native;

namespace Slacker.Testing;

/// <summary>
/// The mounts of this mount namespace at or below a directory a test owns (what it must not leave behind). To
/// remove them, use the bench's <c>MountCleanup.UnmountBelow</c>.
/// </summary>
public static class Mounts
{
    /// <summary>Mount points at or below <paramref name="root"/>, parents before children.</summary>
    public static IReadOnlyList<string> Below(string root) => MountTable.MountPointsUnder(Path.GetFullPath(root));
}
