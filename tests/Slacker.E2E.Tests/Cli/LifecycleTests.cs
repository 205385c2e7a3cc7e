using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.E2E.Tests.Fixtures;
using Slacker.Node.Cache;

namespace Slacker.E2E.Tests.Cli;

/// <summary>Commit and a fresh node, a node killed with -9, and many containers from one cold image.</summary>
public sealed class LifecycleTests : IAsyncLifetime
{
    private SlackerCluster _cluster = null!;
    private string _snapshot = "";

    public async Task InitializeAsync()
    {
        _cluster = await SlackerCluster.StartAsync();
        _snapshot = await _cluster.ImportBusyboxAsync("busybox:1");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
    }

    private string NodeLog => "\nnode:\n" + _cluster.Node?.Output;

    private async Task WaitForExitedAsync(string name, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ps = await _cluster.CliAsync("ps", "-a", "--format", "json");
            var exited = ps.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Any(r => r.GetProperty("name").GetString() == name && r.GetProperty("status").GetString() == "exited");
            if (exited)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"container {name} did not exit within {timeout}: {ps}{NodeLog}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Commit_After_A_Change_Then_A_Fresh_Node_Runs_The_New_Image()
    {
        var change = await _cluster.CliAsync("run", "--name", "editor", "busybox:1", "sh", "-c", "echo 'changed by slacker' > /etc/motd");
        Assert.True(change.ExitCode == 0, change + NodeLog);

        var commit = await _cluster.CliAsync("commit", "--format", "json", "editor", "busybox:2");
        Assert.True(commit.ExitCode == 0, commit + NodeLog);
        using var result = JsonDocument.Parse(commit.Stdout);
        Assert.StartsWith("sha256:", result.RootElement.GetProperty("snapshot").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(_snapshot, result.RootElement.GetProperty("snapshot").GetString());

        // The commit moved what the container changed, not the image.
        Assert.InRange(result.RootElement.GetProperty("dirtyChunks").GetInt64(), 1, 64);
        Assert.True((await _cluster.CliAsync("rm", "editor")).ExitCode == 0);
        await _cluster.PushFromNodeAsync("busybox:2");

        await _cluster.StopNodeAsync();
        Assert.Empty(_cluster.MountsUnderRoot());
        await _cluster.StartNodeAsync(freshData: true);
        var fresh = await _cluster.CliAsync("run", "--rm", "busybox:2", "cat", "/etc/motd");
        Assert.True(fresh.ExitCode == 0, fresh + NodeLog);
        Assert.Equal("changed by slacker\n", fresh.Stdout);

        var old = await _cluster.CliAsync("run", "--rm", "busybox:1", "sh", "-c", "cat /etc/motd 2>/dev/null || echo none");
        Assert.Equal("none\n", old.Stdout);
    }

    [Fact]
    public async Task Node_Killed_With_Sigkill_Tells_The_Truth_After_Restart_And_Leaves_No_Mounts()
    {
        var sleeper = await _cluster.CliAsync("run", "-d", "--name", "sleeper", "busybox:1", "sleep", "1000");
        Assert.True(sleeper.ExitCode == 0, sleeper + NodeLog);
        var quick = await _cluster.CliAsync("run", "-d", "--name", "quick", "busybox:1", "sh", "-c", "sleep 2; exit 5");
        Assert.True(quick.ExitCode == 0, quick + NodeLog);
        Assert.Contains(_cluster.MountsUnderRoot(), m => m.EndsWith("/root", StringComparison.Ordinal));

        // "quick" must have exited (and its code been recorded) before the node dies: the node serves every
        // container's root file system, so a process still running when it is killed dies of SIGBUS instead.
        // The sleeper covers the other case, a container that dies while the node is down.
        await WaitForExitedAsync("quick", TimeSpan.FromSeconds(60));

        // `run` and `ps` report the exit before the root is released behind them; a node killed in the middle
        // of that detach (ext4 unmount, loop detach, FUSE unmount) leaves a thread in the loop detach or the
        // unmount waiting for its own (dead) FUSE server, and the process cannot finish dying until the
        // restarted node aborts the connection. Kill it after the release, whose last step is the FUSE unmount.
        var released = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (_cluster.MountsUnderRoot().Count(m => m.EndsWith("/root", StringComparison.Ordinal) || m.EndsWith("/fuse", StringComparison.Ordinal)) > 2)
        {
            Assert.True(DateTime.UtcNow < released, "the exited container's root was not released within a minute" + NodeLog);
            await Task.Delay(100);
        }

        _cluster.Node!.Signal(9);
        // Not WaitForExitAsync(): it waits for EOF on the node's output too, and the orphaned container
        // processes still hold that pipe.
        Assert.True(_cluster.Node.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the node did not die of SIGKILL" + NodeLog);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await _cluster.StartNodeAsync();

        var ps = await _cluster.CliAsync("ps", "-a", "--format", "json");
        Assert.True(ps.ExitCode == 0, ps + NodeLog);
        var records = ps.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var byName = records.ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.Equal("exited", byName["quick"].GetProperty("status").GetString());
        Assert.Equal(5, byName["quick"].GetProperty("exitCode").GetInt32());
        Assert.Equal("exited", byName["sleeper"].GetProperty("status").GetString());
        Assert.Equal(137, byName["sleeper"].GetProperty("exitCode").GetInt32());
        Assert.Contains("node stopped", byName["sleeper"].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_cluster.MountsUnderRoot(), m => m.StartsWith(Path.Join(_cluster.NodeData, "mnt"), StringComparison.Ordinal));

        // The recovered node runs containers again.
        var again = await _cluster.CliAsync("run", "--rm", "busybox:1", "echo", "back");
        Assert.Equal("back\n", again.Stdout);
        Assert.True((await _cluster.CliAsync("rm", "quick", "sleeper")).ExitCode == 0);

        // A graceful stop (SIGTERM) stops the running containers and detaches their roots.
        Assert.Equal(0, (await _cluster.CliAsync("run", "-d", "--name", "napper", "busybox:1", "sleep", "1000")).ExitCode);
        await _cluster.StopNodeAsync();
        Assert.Empty(_cluster.MountsUnderRoot());
        await _cluster.StartNodeAsync();
        var napper = await _cluster.CliAsync("ps", "-a");
        Assert.Contains("napper", napper.Stdout, StringComparison.Ordinal);
        Assert.Contains("Exited (137)", napper.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eight_Containers_From_One_Cold_Image_Fetch_Each_Chunk_Once()
    {
        var servedBefore = await _cluster.MetricAsync("slacker_chunks_served_total");
        var runs = Enumerable.Range(0, 8).Select(_ => _cluster.CliAsync("run", "--rm", "busybox:1", "md5sum", "/bin/busybox")).ToList();
        var results = await Task.WhenAll(runs);
        foreach (var result in results)
        {
            Assert.True(result.ExitCode == 0, result + NodeLog);
        }

        Assert.Single(results.Select(r => r.Stdout).Distinct());
        var served = await _cluster.MetricAsync("slacker_chunks_served_total") - servedBefore;

        // Distinct chunks the node fetched: its cache, less the snapshot's block-map root and pages.
        using var http = new HttpClient { BaseAddress = new Uri(_cluster.ServerUrl) };
        var root = await new BlockStoreClient(http).GetRootAsync(Digest.Parse(_snapshot));
        var metadata = new HashSet<string>(root.Pages.ToArray().Where(p => !p.IsZero).Select(p => p.Hex)) { Digest.Parse(_snapshot).Hex };
        // The node writes its cache's last records to disk once fetching has been idle for a moment.
        int CachedOnDisk() => ChunkCache.DigestsOnDisk(Path.Join(_cluster.NodeData, "cache"))
            .Where(digest => !metadata.Contains(digest.Hex))
            .Distinct()
            .Count();
        var cached = CachedOnDisk();
        for (var waited = 0; cached != served && waited < 100; waited++)
        {
            await Task.Delay(100);
            cached = CachedOnDisk();
        }

        Assert.True(cached > 0, "the containers fetched nothing");
        Assert.Equal(served, cached);
    }

    [Fact]
    public async Task Clear_Errors_For_No_Server_And_Not_Root()
    {
        await _cluster.StopNodeAsync();
        await _cluster.StartNodeAsync(freshData: true, serverUrl: "http://127.0.0.1:9");
        var noServer = await _cluster.CliAsync("run", "--rm", "busybox:1", "true");
        Assert.Equal(125, noServer.ExitCode);
        Assert.Contains("Cannot reach the Slacker server at http://127.0.0.1:9/", noServer.Stderr, StringComparison.Ordinal);

        var notRoot = await SlackerProcess.RunAsync(["ps", "--socket", _cluster.Socket], user: "nobody");
        Assert.Equal(1, notRoot.ExitCode);
        Assert.Contains("run this as root", notRoot.Stderr, StringComparison.Ordinal);

        var nodeNotRoot = await SlackerProcess.RunAsync(["node", "--data", Path.Join(_cluster.Root, "nobody"), "--socket", Path.Join(_cluster.Root, "n.sock")], user: "nobody");
        Assert.Equal(1, nodeNotRoot.ExitCode);
        Assert.Contains("must run as root", nodeNotRoot.Stderr, StringComparison.Ordinal);

        var noNode = await SlackerProcess.RunAsync(["ps", "--socket", Path.Join(_cluster.Root, "absent.sock")]);
        Assert.Equal(1, noNode.ExitCode);
        Assert.Contains("No slacker node is listening", noNode.Stderr, StringComparison.Ordinal);
    }
}
