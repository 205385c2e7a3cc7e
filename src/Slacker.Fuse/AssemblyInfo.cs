// FUSE, mount(2) and loop devices exist only on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
