// These tests drive overlayfs, mknod, dockerd and skopeo: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
