using System.Runtime.Versioning;

// The node is Linux-only; so are its tests (real FUSE, loop devices and ext4).
[assembly: SupportedOSPlatform("linux")]
