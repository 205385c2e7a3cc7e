// The real server runs as a child that the crash tests stop and kill with Linux signals (tests/Slacker.Testing).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
