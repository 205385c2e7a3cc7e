namespace Slacker.Images.Tests.Support;

/// <summary>
/// A three-layer image exercising what flattening must get right: deletes, replacements and opaque
/// directories over lower layers, hard links, symlinks, xattrs, modes and owners. Written as docker writes
/// layers (a replaced directory is "dir + opaque marker", never "whiteout + dir" in one layer, on which
/// overlay2 and the OCI spec disagree).
/// </summary>
public static class SampleImages
{
    public static TestImage MultiLayer()
    {
        var baseLayer = new LayerBuilder()
            .Dir("bin/").File("bin/busybox", "#!/bin/sh\n# pretend busybox\n", mode: 0x1ED)
            .Symlink("bin/sh", "busybox")
            .FileWithBinaryXattr("bin/ping", "#!/bin/sh\n# pretend ping\n", "security.capability", LayerBuilder.NetRawCapability)
            .Dir("etc/").File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
            .File("etc/motd", "welcome\n")
            .Dir("usr/", xattrs: new Dictionary<string, string> { ["user.layer"] = "base" })
            .Dir("usr/lib/").File("usr/lib/liba.so", new byte[40_000].Select((_, i) => (byte)(i % 251)).ToArray())
            .HardLink("usr/lib/liba.so.1", "usr/lib/liba.so")
            .Dir("var/").Dir("var/cache/").File("var/cache/one", "1").Dir("var/cache/sub/").File("var/cache/sub/two", "2")
            .Dir("tmp/", mode: 0x3FF)
            .Dir("srv/").Dir("srv/data/").File("srv/data/x", "x")
            .Dir("home/").Dir("home/app/", mode: 0x1ED, uid: 1000, gid: 1000).File("home/app/.profile", "export A=1\n", uid: 1000, gid: 1000)
            .Tar();
        var middle = new LayerBuilder()
            .Whiteout("etc/motd")
            .Dir("etc/").File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
            .Dir("var/").Dir("var/cache/").Opaque("var/cache").File("var/cache/fresh", "new")
            .Dir("opt/").Dir("opt/app/").File("opt/app/run", "#!/bin/sh\nexec echo app\n", mode: 0xDED /* 06755 */, xattrs: new Dictionary<string, string> { ["user.role"] = "entry" })
            .HardLink("opt/app/run-again", "opt/app/run", mode: 0xDED)
            .Tar();
        var top = new LayerBuilder()
            .Dir("usr/", xattrs: new Dictionary<string, string> { ["user.layer"] = "top" })
            .Dir("usr/lib/").File("usr/lib/liba.so", "replaced\n")
            .Whiteout("srv")
            // Replaced directory, written the way docker's own diff writes it: the directory, then its opaque marker.
            .Dir("home/").Dir("home/app/", mode: 0x1C0, uid: 2000, gid: 2000).Opaque("home/app")
            .Symlink("opt/current", "app/run")
            .Tar();
        return new TestImage(baseLayer, middle, top);
    }
}
