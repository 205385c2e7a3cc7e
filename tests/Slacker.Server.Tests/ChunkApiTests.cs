using System.Net;
using System.Net.Sockets;
using System.Text;
using Slacker.Bench.Processes;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

public sealed class ChunkApiTests
{
    [Fact]
    public async Task Put_is_verified_stored_once_and_read_back()
    {
        await using var server = await InProcessServer.StartAsync();
        var bytes = Encoding.ASCII.GetBytes("a chunk of data");
        var digest = Digest.Compute(bytes);

        Assert.True(await server.Client.PutChunkAsync(digest, bytes));
        Assert.False(await server.Client.PutChunkAsync(digest, bytes));
        Assert.Equal(bytes, await server.Client.GetChunkAsync(digest));

        using var head = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"api/v1/chunks/{digest}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Missing_query_names_only_absent_chunks()
    {
        await using var server = await InProcessServer.StartAsync();
        var present = await server.UploadRandomChunksAsync(3, 4096, new Random(1));
        var absent = Enumerable.Range(0, 2).Select(i => Digest.Compute([(byte)i, 42])).ToArray();

        var missing = await server.Client.FindMissingAsync([.. present.Select(p => p.Digest), .. absent]);

        Assert.Equal(absent.OrderBy(d => d), missing.OrderBy(d => d));
    }

    [Fact]
    public async Task Batch_get_streams_every_chunk_in_order_verified()
    {
        await using var server = await InProcessServer.StartAsync();
        var chunks = await server.UploadRandomChunksAsync(40, 65536, new Random(2));
        var order = chunks.Select(c => c.Digest).Reverse().ToList();
        var got = new List<(Digest, byte[])>();

        await server.Client.GetChunksAsync(order, (d, data) =>
        {
            got.Add((d, data.ToArray()));
            return ValueTask.CompletedTask;
        });

        Assert.Equal(order, got.Select(g => g.Item1));
        Assert.All(got, g => Assert.Equal(chunks.Single(c => c.Digest == g.Item1).Bytes, g.Item2));
    }

    [Fact]
    public async Task Batch_with_an_unknown_chunk_is_404_naming_it()
    {
        await using var server = await InProcessServer.StartAsync();
        var chunks = await server.UploadRandomChunksAsync(2, 4096, new Random(3));
        var unknown = Digest.Compute("nope"u8);

        var e = await Assert.ThrowsAsync<BlockStoreException>(() =>
            server.Client.GetChunksAsync([chunks[0].Digest, unknown, chunks[1].Digest], (_, _) => ValueTask.CompletedTask));

        Assert.Equal(404, e.StatusCode);
        Assert.Equal(ErrorCodes.ChunkUnknown, e.Code);
        Assert.Contains(unknown.ToString(), e.Message);
    }

    [Fact]
    public async Task Zero_chunks_are_never_stored_but_read_as_zeros()
    {
        await using var server = await InProcessServer.StartAsync();
        var zeros = new byte[65536];
        var digest = Digest.Compute(zeros);

        Assert.False(await server.Client.PutChunkAsync(digest, zeros));
        Assert.Empty(await server.Client.FindMissingAsync([digest]));
        Assert.Equal(zeros, await server.Client.GetChunkAsync(digest));
        Assert.Empty(Directory.EnumerateFiles(Path.Join(server.DataDirectory, "chunks"), "*", SearchOption.AllDirectories));

        var volume = await server.Client.CreateVolumeAsync(1 << 20, 65536);
        await server.Client.UpdateMapAsync(volume.Id, [new BlockMapEntry(3, digest.ToString())]);
        var map = await server.Client.GetMapAsync(volume.Id);
        Assert.Null(Assert.Single(map.Changes).Digest);
    }

    [Fact]
    public async Task Metrics_count_served_chunks_and_time_routes()
    {
        await using var server = await InProcessServer.StartAsync();
        var chunks = await server.UploadRandomChunksAsync(2, 8192, new Random(4));
        await server.Client.GetChunkAsync(chunks[0].Digest);
        await server.Client.GetChunksAsync([chunks[0].Digest, chunks[1].Digest], (_, _) => ValueTask.CompletedTask);

        var text = await server.Http.GetStringAsync("metrics");

        Assert.Contains("slacker_chunks_served_total 3\n", text);
        Assert.Contains($"slacker_chunk_bytes_served_total {3 * 8192}\n", text);
        Assert.Contains("slacker_chunks_uploaded_total 2\n", text);
        Assert.Contains("slacker_http_request_duration_seconds_count{method=\"PUT\",route=\"/api/v1/chunks/{digest}\"} 2", text);
        Assert.Contains("slacker_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/chunks/{digest}\",le=\"+Inf\"} 1", text);
        Assert.Equal("ok\n", await server.Http.GetStringAsync("healthz"));
    }

    [Fact]
    public async Task Unreachable_server_is_named_with_what_to_do()
    {
        var port = FreePort.Pick();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var e = await Assert.ThrowsAsync<BlockStoreException>(() => new BlockStoreClient(http).ListVolumesAsync());

        Assert.Equal(ErrorCodes.ServerUnreachable, e.Code);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("slacker server", e.Message);
    }

    [Fact]
    public async Task Server_that_does_not_answer_is_a_timeout_naming_it()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts connections (the kernel does) but never answers
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(1) };

        var e = await Assert.ThrowsAsync<BlockStoreException>(() => new BlockStoreClient(http).GetVolumeAsync("vol-x"));

        Assert.Equal(ErrorCodes.ServerTimeout, e.Code);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("healthz", e.Message);
    }
}
