using Slacker.Native;

namespace Slacker.Bench.Build;

/// <summary>The "otherwise empty root" of the busybox image: the directories a container runtime expects, and root's passwd entry.</summary>
internal static class SkeletonRoot
{
    private static readonly (string Path, int Mode)[] Directories =
    [
        ("bin", 0x1ED), ("dev", 0x1ED), ("etc", 0x1ED), ("home", 0x1ED), ("proc", 0x1ED), ("root", 0x1C0),
        ("sbin", 0x1ED), ("sys", 0x1ED), ("tmp", 0x3FF), ("usr", 0x1ED), ("usr/bin", 0x1ED), ("usr/sbin", 0x1ED),
        ("var", 0x1ED), ("var/tmp", 0x3FF),
    ];

    private const string Passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    private const string Group = "root:x:0:\nnogroup:x:65534:\n";

    public static string Key()
    {
        using var key = new CacheKey("skeleton");
        foreach (var (path, mode) in Directories)
        {
            key.Add(path).Add(mode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return key.Add(Passwd).Add(Group).Finish();
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static string Ensure(BuildPaths paths)
    {
        var dir = paths.SkeletonRoot(Key());
        var rootfs = Path.Combine(dir, "rootfs");
        if (BuildPaths.IsComplete(dir))
        {
            return rootfs;
        }

        var staging = dir + ".tmp-" + Environment.ProcessId;
        BuildPaths.DeleteTree(staging);
        var stagingRoot = Path.Combine(staging, "rootfs");
        Directory.CreateDirectory(stagingRoot);
        foreach (var (path, mode) in Directories)
        {
            var full = Path.Combine(stagingRoot, path);
            Directory.CreateDirectory(full);
            File.SetUnixFileMode(full, (UnixFileMode)mode);
            UnixFile.ChangeOwner(full, 0, 0);
        }

        File.SetUnixFileMode(stagingRoot, (UnixFileMode)0x1ED);
        File.WriteAllText(Path.Combine(stagingRoot, "etc", "passwd"), Passwd);
        File.WriteAllText(Path.Combine(stagingRoot, "etc", "group"), Group);
        File.SetUnixFileMode(Path.Combine(stagingRoot, "etc", "passwd"), (UnixFileMode)0x1A4);
        File.SetUnixFileMode(Path.Combine(stagingRoot, "etc", "group"), (UnixFileMode)0x1A4);
        BuildPaths.MarkComplete(staging);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
            Directory.Move(staging, dir);
        }
        catch (IOException) when (BuildPaths.IsComplete(dir))
        {
            BuildPaths.DeleteTree(staging);
        }

        return rootfs;
    }
}
