// Child processes are signalled through libc and run through the bench's process helpers, which are Linux-only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
