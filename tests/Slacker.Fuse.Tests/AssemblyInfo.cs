// The tests drive the Linux kernel (FUSE, loop devices, ext4).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
