namespace Slacker.Node;

/// <summary>Where the node keeps things under its root directory.</summary>
public sealed class NodePaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Cache => Path.Combine(Root, "cache");

    public string Volumes => Path.Combine(Root, "volumes");

    /// <summary>Every mount the node makes lives below here, and stale-mount cleanup touches nothing else.</summary>
    public string Mounts => Path.Combine(Root, "mnt");

    public string VolumeDirectory(string volumeId) => Path.Combine(Volumes, CheckId(volumeId));

    public string MountDirectory(string volumeId) => Path.Combine(Mounts, CheckId(volumeId));

    /// <summary>Volume ids become directory names, so only a safe alphabet is accepted.</summary>
    public static string CheckId(string volumeId)
    {
        if (string.IsNullOrEmpty(volumeId) || volumeId.Length > 128 || volumeId.StartsWith('.')
            || !volumeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"'{volumeId}' is not a usable volume id: use 1-128 ASCII letters, digits, '-', '_' or '.', not starting with '.'.", nameof(volumeId));
        }

        return volumeId;
    }
}
