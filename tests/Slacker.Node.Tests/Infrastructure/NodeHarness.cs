using Slacker.Core.Model;
using Slacker.Node.Attach;
using Slacker.Node.Tests.Fakes;
using Slacker.Node.Volumes;

namespace Slacker.Node.Tests.Infrastructure;

/// <summary>
/// A real server process plus a node root for one kernel test. Dispose detaches whatever the test attached,
/// clears anything left under the node's mount directory, kills the server, removes the temp directory, and
/// then fails the test if a mount, loop device or FUSE connection of this node survived.
/// </summary>
internal sealed class NodeHarness : IAsyncDisposable
{
    private readonly List<AttachedVolume> _attached = [];
    private readonly List<uint> _fuseConnections = [];

    private NodeHarness(TempDirectory directory, ServerProcess server)
    {
        Directory = directory;
        Server = server;
        Store = new BlockStoreClientAdapter(server.Client);
    }

    private readonly List<string> _nodeRoots = [];

    public TempDirectory Directory { get; }

    public ServerProcess Server { get; }

    public BlockStoreClientAdapter Store { get; }

    public CapturingLoggerFactory Logs { get; } = new();

    public string NodeRoot => Directory.Sub("node");

    public static async Task<NodeHarness> StartAsync()
    {
        var directory = new TempDirectory("slacker-node-kernel");
        try
        {
            var server = await ServerProcess.StartAsync(directory.Sub("server"));
            return new NodeHarness(directory, server);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>A node on this harness's server; <paramref name="name"/> gives a second node its own directory (own cache).</summary>
    public NodeStorage OpenNode(NodeOptions? options = null, string? name = null)
    {
        var root = name is null ? NodeRoot : Directory.Sub(name);
        if (!_nodeRoots.Contains(root))
        {
            _nodeRoots.Add(root);
        }

        return NodeStorage.Open((options ?? new NodeOptions { Root = root }) with { Root = root, CacheCapacityBytes = options?.CacheCapacityBytes ?? (1L << 30) }, Store, Logs);
    }

    public async Task<AttachedVolume> AttachAsync(VolumeAttacher attacher, string volumeId, bool readOnly = false)
    {
        var attached = await attacher.AttachAsync(volumeId, readOnly);
        _attached.Add(attached);
        _fuseConnections.Add(attached.FuseConnectionId);
        return attached;
    }

    public void Detach(AttachedVolume volume)
    {
        volume.Detach();
        _attached.Remove(volume);
    }

    /// <summary>Builds an ext4 image of random files, imports it and returns (snapshot id, file hashes, image path).</summary>
    public async Task<(string Snapshot, Dictionary<string, string> Files, string Image)> ImportRandomExt4Async(long imageBytes, int files, int maxFileBytes, int seed = 7)
    {
        var source = Directory.Sub($"tree{seed}");
        System.IO.Directory.CreateDirectory(source);
        var hashes = Ext4Image.WriteRandomTree(source, files, maxFileBytes, seed);
        var image = Directory.Sub($"image{seed}.ext4");
        Ext4Image.Build(image, imageBytes, source);
        var result = await VolumeImporter.ImportAsync(Store, image);
        return (result.Snapshot.Id, hashes, image);
    }

    /// <summary>Waits until no chunk fetch is under way (read-ahead lands after the read that asked for it returned).</summary>
    public static async Task WaitForIdleFetcherAsync(NodeStorage node)
    {
        for (var i = 0; i < 3000 && node.Fetcher.IsPendingAny; i++)
        {
            await Task.Delay(10);
        }

        Assert.False(node.Fetcher.IsPendingAny, "fetches still pending after 30 s");
    }

    public async Task<string> CloneAsync(string snapshot) => (await Server.Client.CloneAsync(Digest.Parse(snapshot))).Id;

    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (var volume in _attached.AsEnumerable().Reverse())
        {
            try
            {
                volume.Detach();
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }

        var leaks = new List<string>();
        foreach (var root in _nodeRoots.Prepend(NodeRoot).Distinct())
        {
            try
            {
                if (System.IO.Directory.Exists(root))
                {
                    new VolumeAttacher(NodeStorage.Open(new NodeOptions { Root = root }, Store)).CleanupStale();
                }
            }
            catch (Exception e)
            {
                errors.Add(e);
            }

            leaks.AddRange(Leaks.Under(root));
        }

        leaks.AddRange(_fuseConnections.Where(id => System.IO.Directory.Exists($"/sys/fs/fuse/connections/{id}")).Select(id => $"FUSE connection {id}"));
        Server.Dispose();
        Directory.Dispose();
        await Task.CompletedTask;
        if (leaks.Count > 0)
        {
            errors.Add(new InvalidOperationException("Left behind: " + string.Join("; ", leaks)));
        }

        if (errors.Count > 0)
        {
            throw new AggregateException(errors);
        }
    }
}
