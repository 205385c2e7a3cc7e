namespace Slacker.Images.Tests.Support;

/// <summary>
/// Work directories of these tests live under /var/tmp, not /tmp: they hold ext4 images, layer tarballs and
/// podman/skopeo temp files of hundreds of MiB, and /tmp may be a small tmpfs.
/// </summary>
public static class Scratch
{
    public static TempDirectory Dir(string tag) => new($"slacker-test-{tag}", "/var/tmp");
}
