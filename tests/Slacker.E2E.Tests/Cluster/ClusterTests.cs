using System.Text.Json;
using Slacker.Bench.Cluster;
using Slacker.Core.Model;
using Slacker.Server.Storage.S3;

namespace Slacker.E2E.Tests.Cluster;

/// <summary>
/// The cluster for real: hosts in network namespaces, two stateless servers on one PostgreSQL and one Ceph S3
/// bucket. What one host pushes through one server, another host runs through the other; servers die under load
/// and nothing acknowledged is lost; a corrupted S3 object is an error, never data.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ClusterFixture fixture)
{
    private SharedStorageCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task An_image_pushed_on_host_A_through_server_1_runs_on_host_B_through_server_2()
    {
        var change = await fixture.A.CliAsync("run", "--name", "edit-a", ClusterFixture.Base, "sh", "-c", "echo written-on-host-a > /etc/motd");
        Assert.True(change.ExitCode == 0, change + fixture.A.Output);
        var commit = await fixture.A.CliAsync("commit", "edit-a", "cross:1");
        Assert.True(commit.ExitCode == 0, commit + fixture.A.Output);
        Assert.Equal(0, (await fixture.A.CliAsync("rm", "edit-a")).ExitCode);
        var push = await fixture.A.CliAsync("push", "cross:1");
        Assert.True(push.ExitCode == 0, push.ToString());

        var servedBy0 = await Cluster.Server(0).CounterAsync("slacker_chunk_bytes_served_total");
        var servedBy1 = await Cluster.Server(1).CounterAsync("slacker_chunk_bytes_served_total");
        var run = await fixture.B.CliAsync("run", "--rm", "cross:1", "cat", "/etc/motd");
        Assert.True(run.ExitCode == 0, run + fixture.B.Output);
        Assert.Equal("written-on-host-a", run.Stdout.Trim());

        // Host B knows only server 1: every chunk it read came from there, and lazily (a fraction of the image).
        var fetched = await Cluster.Server(1).CounterAsync("slacker_chunk_bytes_served_total") - servedBy1;
        Assert.True(fetched > 0, "host B's run fetched nothing from server 1");
        Assert.Equal(servedBy0, await Cluster.Server(0).CounterAsync("slacker_chunk_bytes_served_total"));
        Assert.True((await Cluster.FsckAsync()).IsClean);
    }

    [Fact]
    public async Task Twenty_kill_9s_of_a_server_during_pushes_and_runs_lose_no_acknowledged_image()
    {
        var acknowledged = new List<string>();
        var failedPushes = new List<string>();
        var random = new Random(13);
        for (var round = 0; round < 20; round++)
        {
            var name = $"kill:{round}";
            var container = $"writer-{round}";
            var write = await fixture.C.CliAsync("run", "--name", container, ClusterFixture.Base, "sh", "-c",
                "head -c 3000000 /dev/urandom > /payload && md5sum /payload > /payload.md5");
            Assert.True(write.ExitCode == 0, write + fixture.C.Output);

            // In the window: host C commits and pushes (chunk uploads, snapshot, manifest) while host D starts the
            // last acknowledged image cold; server 0 dies at a random moment of it.
            var pushing = CommitAndPushAsync(container, name);
            var reader = acknowledged.Count > 0 ? acknowledged[^1] : ClusterFixture.Base;
            var running = fixture.D.CliAsync("run", "--rm", reader, "sh", "-c", acknowledged.Count > 0 ? "md5sum -c /payload.md5" : "md5sum /bin/busybox");
            await Task.Delay(random.Next(0, 1200));
            Cluster.KillServer(0);

            var (pushed, detail) = await pushing;
            var ran = await running;
            (pushed ? acknowledged : failedPushes).Add(pushed ? name : $"{name}: {detail}");
            Assert.True(ran.ExitCode == 0, $"round {round}: the run on host D failed although server 1 was up: {ran}\n{fixture.D.Output}");
            Assert.Equal(0, (await fixture.C.CliAsync("rm", "-f", container)).ExitCode);

            await Cluster.StartServerAsync(0);
            var fsck = await Cluster.FsckAsync();
            Assert.True(fsck.IsClean, $"round {round}: fsck after the kill: {fsck}");
        }

        // Every push that was acknowledged runs, byte for byte, on a host that never saw it.
        Assert.True(acknowledged.Count >= 10, $"only {acknowledged.Count} of 20 pushes were acknowledged: {string.Join("; ", failedPushes)}");
        foreach (var name in acknowledged)
        {
            var check = await fixture.B.CliAsync("run", "--rm", name, "md5sum", "-c", "/payload.md5");
            Assert.True(check.ExitCode == 0 && check.Stdout.Contains("OK", StringComparison.Ordinal), $"{name}: {check}\n{fixture.B.Output}");
        }
    }

    [Fact]
    public async Task A_chunk_whose_S3_object_was_overwritten_is_an_error_on_the_node_never_data()
    {
        var write = await fixture.A.CliAsync("run", "--name", "big", ClusterFixture.Base, "sh", "-c", "head -c 4000000 /dev/urandom > /big");
        Assert.True(write.ExitCode == 0, write + fixture.A.Output);
        var commit = await fixture.A.CliAsync("commit", "--format", "json", "big", "damaged:1");
        Assert.True(commit.ExitCode == 0, commit.ToString());
        Assert.Equal(0, (await fixture.A.CliAsync("rm", "big")).ExitCode);
        Assert.Equal(0, (await fixture.A.CliAsync("push", "damaged:1")).ExitCode);
        using var committed = JsonDocument.Parse(commit.Stdout);
        var snapshot = Digest.Parse(committed.RootElement.GetProperty("snapshot").GetString()!);

        // The chunks of /big: in the new snapshot, not in the base, and random (ext4 metadata is not).
        var candidates = (await ChunksOfAsync(snapshot)).Except(await ChunksOfAsync(Digest.Parse(fixture.BaseSnapshot))).ToList();
        using var bucket = new S3Bucket(S3Location.Parse(Cluster.Ceph.Location(ClusterStorage.Bucket)), new S3Credentials(Cluster.Ceph.AccessKey, Cluster.Ceph.SecretKey));
        var originals = new Dictionary<Digest, byte[]>();
        foreach (var digest in candidates)
        {
            var bytes = await ReadObjectAsync(bucket, digest);
            if (bytes.Distinct().Count() == 256)
            {
                originals[digest] = bytes;
            }
        }

        Assert.True(originals.Count >= 8, $"only {originals.Count} of {candidates.Count} new chunks hold /big's random bytes");
        try
        {
            foreach (var (digest, bytes) in originals)
            {
                var other = new byte[bytes.Length];
                Random.Shared.NextBytes(other);
                await bucket.PutAsync("chunks/" + digest.Hex, other, CancellationToken.None);
            }

            var read = await fixture.B.CliAsync("run", "--rm", "damaged:1", "md5sum", "/big");
            Assert.NotEqual(0, read.ExitCode);
            Assert.Contains("Input/output error", read.Output, StringComparison.Ordinal);
            Assert.Contains("does not hash", fixture.B.Output, StringComparison.Ordinal);

            var bad = originals.Keys.First();
            using var http = new HttpClient { BaseAddress = Cluster.Server(1).Address };
            using var answer = await http.GetAsync(new Uri($"api/v1/chunks/{bad}", UriKind.Relative));
            var body = await answer.Content.ReadAsStringAsync();
            Assert.Equal(500, (int)answer.StatusCode);
            Assert.Contains("OBJECT_CORRUPT", body, StringComparison.Ordinal);
            Assert.Contains(bad.ToString(), body, StringComparison.Ordinal);

            var fsck = await Cluster.FsckAsync();
            Assert.False(fsck.IsClean);
            var problems = fsck.Report!.RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => (Kind: p.GetProperty("kind").GetString(), Subject: p.GetProperty("subject").GetString())).ToList();
            Assert.Contains(("chunk-corrupt", bad.ToString()), problems);
        }
        finally
        {
            foreach (var (digest, bytes) in originals)
            {
                await bucket.PutAsync("chunks/" + digest.Hex, bytes, CancellationToken.None);
            }
        }

        Assert.True((await Cluster.FsckAsync()).IsClean);
    }

    private async Task<(bool Pushed, string Detail)> CommitAndPushAsync(string container, string name)
    {
        var commit = await fixture.C.CliAsync("commit", container, name);
        if (commit.ExitCode != 0)
        {
            return (false, "commit: " + commit.Output.Trim());
        }

        var push = await fixture.C.CliAsync("push", name);
        return (push.ExitCode == 0, "push: " + push.Output.Trim());
    }

    private async Task<HashSet<Digest>> ChunksOfAsync(Digest snapshot)
    {
        var client = Cluster.Server(1).Client;
        var root = await client.GetRootAsync(snapshot);
        var chunks = new HashSet<Digest>();
        foreach (var page in root.Pages.ToArray().Where(p => !p.IsZero))
        {
            foreach (var entry in BlockMapPage.Entries(await client.GetPageAsync(page)))
            {
                if (!entry.IsZero)
                {
                    chunks.Add(entry);
                }
            }
        }

        return chunks;
    }

    private static async Task<byte[]> ReadObjectAsync(S3Bucket bucket, Digest digest)
    {
        using var response = await bucket.GetAsync("chunks/" + digest.Hex, CancellationToken.None)
            ?? throw new InvalidOperationException($"chunk {digest} is not in the bucket");
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
