// Loop devices, ext4 mounts, dockerd and skopeo: these tests run on Linux only, as root.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
