using Slacker.Bench.Corpus;
using Slacker.Bench.Processes;
using Slacker.Bench.Scale;
using Slacker.Testing;

namespace Slacker.Bench.Tests;

/// <summary>
/// `bench --scale` for real, small: PostgreSQL, Ceph S3, two servers, busybox pushed once and started by one
/// and then two nodes at once, each in its own network namespace with an empty cache.
/// </summary>
[Collection(RealSystemCollection.Name)]
public sealed class ScaleRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-scale-").FullName;

    public void Dispose()
    {
        MountCleanup.UnmountBelow(_dir);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Nodes_Starting_At_Once_Each_Fetch_Their_Own_Bytes_And_The_Servers_Count_What_They_Sent()
    {
        var options = new ScaleOptions
        {
            Image = "busybox",
            NodeCounts = [1, 2],
            ServerCounts = [1, 2],
            Reps = 1,
            OutputDirectory = Path.Join(_dir, "out"),
            CacheDirectory = CorpusCache.Dir,
            WorkDirectory = Path.Join(_dir, "work"),
            SlackerCli = SlackerProcess.Executable,
        };
        var namespacesBefore = Namespaces();

        var exit = await ScaleRunner.RunAsync(options, TextWriter.Null, CancellationToken.None);

        var records = ScaleRecord.ReadAll(Path.Join(options.OutputDirectory, ScaleRunner.ResultsFile));
        Assert.Empty(records.Where(r => r.Kind == "failure").Select(r => r.Message));
        Assert.Equal(0, exit);

        // A warm-up wave (one node per server), then 1 and 2 nodes on 1 and on 2 servers.
        var starts = records.Where(r => r.Kind == "start").ToList();
        Assert.Equal(2 + 2 * (1 + 2), starts.Count);
        Assert.All(starts, s =>
        {
            Assert.True(s.Seconds > 0);
            Assert.True(s.BytesFetched > 0, "every node starts with an empty cache and must fetch");
            Assert.True(s.BytesRead > 0);
        });
        Assert.Equal([0, 1], starts.Where(s => s.Servers == 2 && s.Nodes == 2 && s.Warmup is null).Select(s => s.Server!.Value).Order());

        // What the servers sent during a wave covers what its nodes fetched; with two servers both sent.
        foreach (var wave in records.Where(r => r.Kind == "wave"))
        {
            var fetched = starts.Where(s => s.Servers == wave.Servers && s.Nodes == wave.Nodes && s.Rep == wave.Rep && s.Warmup == wave.Warmup).Sum(s => s.BytesFetched!.Value);
            Assert.True(wave.ServerBytesOut >= fetched, $"servers sent {wave.ServerBytesOut} B, nodes fetched {fetched} B");
            // Every server of the cluster is counted; the ones a wave's nodes were not given sent nothing.
            Assert.Equal(2, wave.ServerBytesOutBy!.Count);
            Assert.All(wave.ServerBytesOutBy.Skip(wave.Servers!.Value), b => Assert.Equal(0, b));
            Assert.True(wave.MachineCpuSeconds > 0 && wave.WaveSeconds > 0);
            if (wave.Nodes == 2 && wave.Servers == 2)
            {
                Assert.All(wave.ServerBytesOutBy, b => Assert.True(b > 0));
            }
        }

        var report = await File.ReadAllTextAsync(Path.Join(options.OutputDirectory, ScaleRunner.ReportFile));
        Assert.Contains("| 2 | 2 | 1 |", report, StringComparison.Ordinal);
        Assert.Contains("median start of 2 nodes <= 2x 1 node's", report, StringComparison.Ordinal);

        // Nothing left: no namespace, mount or directory of the run.
        Assert.Equal(namespacesBefore, Namespaces());
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(_dir, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Join(options.WorkDirectory, "scale")));
    }

    [Fact]
    public async Task An_Image_Whose_Job_Is_An_Http_Answer_Is_Refused_With_The_Reason()
    {
        var options = new ScaleOptions
        {
            Image = "node",
            OutputDirectory = Path.Join(_dir, "out"),
            CacheDirectory = CorpusCache.Dir,
            WorkDirectory = Path.Join(_dir, "work"),
            SlackerCli = SlackerProcess.Executable,
        };
        var error = await Assert.ThrowsAsync<CorpusException>(() => ScaleRunner.RunAsync(options, TextWriter.Null, CancellationToken.None));
        Assert.Contains("HTTP answer", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new int[0], new[] { 1 }, 1, "--nodes")]
    [InlineData(new[] { 1, 100 }, new[] { 1 }, 1, "--nodes")]
    [InlineData(new[] { 1 }, new[] { 0 }, 1, "--servers")]
    [InlineData(new[] { 1 }, new[] { 1 }, 0, "--reps")]
    public void Bad_Counts_Name_The_Option(int[] nodes, int[] servers, int reps, string option)
    {
        var options = new ScaleOptions
        {
            NodeCounts = nodes, ServerCounts = servers, Reps = reps,
            OutputDirectory = _dir, CacheDirectory = _dir, WorkDirectory = _dir, SlackerCli = "slacker",
        };
        Assert.StartsWith(option, ScaleRunner.Validate(options), StringComparison.Ordinal);
    }

    private static string[] Namespaces() => Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns").Order().ToArray() : [];
}
