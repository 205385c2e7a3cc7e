using Slacker.E2E.Tests.Fixtures;

namespace Slacker.E2E.Tests.Cluster;

/// <summary>
/// One cluster for the cluster tests: two servers on PostgreSQL + Ceph S3, and four hosts: A knows only server 0,
/// B only server 1, C and D know both (failover). Busybox is imported once, through server 0 from host A.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string Base = "cbusybox:1";

    private SharedStorageCluster? _cluster;

    public SharedStorageCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster did not start");

    public ClusterNode A => Cluster.Nodes[0];

    public ClusterNode B => Cluster.Nodes[1];

    public ClusterNode C => Cluster.Nodes[2];

    public ClusterNode D => Cluster.Nodes[3];

    public string BaseSnapshot { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _cluster = await SharedStorageCluster.StartAsync(2, [0], [1], [0, 1], [0, 1]);
        var layout = await BusyboxOciLayout.WriteAsync(Path.Join(Cluster.Root, "busybox-oci"), "1");
        var import = await A.CliAsync("import", layout, Base);
        Assert.True(import.ExitCode == 0, import.ToString());
        var service = new Slacker.Images.Operations.ImageService(Cluster.Server(0).Address, Slacker.Images.Store.LocalImageStore.Default(A.Data));
        BaseSnapshot = (await service.FetchAsync(Slacker.Images.Import.ImageName.Parse(Base))).Image.Layer.Snapshot;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
