// The bench builds images with overlayfs and chroot and drives a node that needs FUSE and loop devices: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
