using System.Runtime.Versioning;

// The node's data path is FUSE, loop devices and ext4: Linux only, like Slacker.Fuse beneath it.
[assembly: SupportedOSPlatform("linux")]
