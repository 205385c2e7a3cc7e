// The cluster backend tests start PostgreSQL and Ceph, which exist only on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
