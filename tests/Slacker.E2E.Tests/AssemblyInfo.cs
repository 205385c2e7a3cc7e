using System.Runtime.Versioning;

// Containers, FUSE and loop devices: these tests are Linux-only, like the node they drive.
[assembly: SupportedOSPlatform("linux")]

// The tests start servers, nodes and containers and watch global state (mounts, server metrics); one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
