using Slacker.Native;
using System.Globalization;
using System.Runtime.InteropServices;
using Slacker.Core.Api;
using Slacker.Node;
using Slacker.Node.Attach;
using Slacker.Node.TestHost;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Usage: Slacker.Node.TestHost <node root> <server url> <volume id>
// Prints "attached <mount>" and then "synced <n>" after file n is durable (file and directory fsynced).
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Slacker.Node.TestHost <node root> <server url> <volume id>");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(args[1]) };
var node = NodeStorage.Open(new NodeOptions { Root = args[0] }, new BlockStoreClientAdapter(new BlockStoreClient(http)));
var attacher = new VolumeAttacher(node);
attacher.CleanupStale();
var attached = await attacher.AttachAsync(args[2]);
var directory = Path.Combine(attached.MountPath, "crash");
Directory.CreateDirectory(directory);
Console.WriteLine($"attached {attached.MountPath}");
for (var i = 0; ; i++)
{
    var path = Path.Combine(directory, $"f{i}");
    using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
    {
        file.Write(CrashContent.For(i));
        file.Flush(flushToDisk: true);
    }

    UnixFile.SyncDirectory(directory);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"synced {i}"));
}
