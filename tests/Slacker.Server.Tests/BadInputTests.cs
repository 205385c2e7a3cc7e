using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

/// <summary>
/// Every kind of bad request gets a 4xx with the API's code and a message naming the problem, and changes
/// nothing: the store looks the same before and after, and fsck is clean.
/// </summary>
public sealed class BadInputTests
{
    private static readonly string Unknown = Digest.Compute("never uploaded"u8).ToString();

    public static TheoryData<string> Cases => [.. CaseTable.Keys];

    private static readonly Dictionary<string, (Func<Setup, HttpRequestMessage> Request, int Status, string Code, string Mentions)> CaseTable = new()
    {
        ["wrong digest"] = (s => Put($"api/v1/chunks/{s.Chunk}", "not the chunk"u8.ToArray()), 400, ErrorCodes.DigestMismatch, "do not hash to"),
        ["malformed digest"] = (_ => Put("api/v1/chunks/sha256:ABC", [1, 2, 3]), 400, ErrorCodes.DigestInvalid, "sha256:ABC"),
        ["oversized chunk"] = (_ => Put($"api/v1/chunks/{Digest.Compute(new byte[(1 << 20) + 1])}", new byte[(1 << 20) + 1]), 413, ErrorCodes.BodyTooLarge, "1048576"),
        ["unknown volume"] = (_ => new HttpRequestMessage(HttpMethod.Get, "api/v1/volumes/vol-nope"), 404, ErrorCodes.VolumeUnknown, "vol-nope"),
        ["unknown snapshot"] = (_ => new HttpRequestMessage(HttpMethod.Get, $"api/v1/snapshots/{Unknown}"), 404, ErrorCodes.SnapshotUnknown, Unknown),
        ["unknown snapshot root"] = (_ => new HttpRequestMessage(HttpMethod.Get, $"api/v1/snapshots/{Unknown}/root"), 404, ErrorCodes.SnapshotUnknown, Unknown),
        ["release unknown snapshot"] = (_ => new HttpRequestMessage(HttpMethod.Delete, $"api/v1/snapshots/{Unknown}"), 404, ErrorCodes.SnapshotUnknown, Unknown),
        ["unknown page"] = (_ => new HttpRequestMessage(HttpMethod.Get, $"api/v1/pages/{Unknown}"), 404, ErrorCodes.PageUnknown, Unknown),
        ["unknown chunk"] = (_ => new HttpRequestMessage(HttpMethod.Get, $"api/v1/chunks/{Unknown}"), 404, ErrorCodes.ChunkUnknown, Unknown),
        ["clone of unknown snapshot"] = (_ => Json(HttpMethod.Post, "api/v1/volumes", $$"""{"baseSnapshot":"{{Unknown}}"}"""), 404, ErrorCodes.SnapshotUnknown, Unknown),
        ["snapshot of unknown volume"] = (_ => Json(HttpMethod.Post, "api/v1/volumes/vol-nope/snapshot", "{}"), 404, ErrorCodes.VolumeUnknown, "vol-nope"),
        ["map of unknown volume"] = (s => Json(HttpMethod.Patch, "api/v1/volumes/vol-nope/map", $$"""{"entries":[{"index":1,"digest":"{{s.Chunk}}"}]}"""), 404, ErrorCodes.VolumeUnknown, "vol-nope"),
        ["delete unknown volume"] = (_ => new HttpRequestMessage(HttpMethod.Delete, "api/v1/volumes/vol-nope"), 404, ErrorCodes.VolumeUnknown, "vol-nope"),
        ["malformed JSON"] = (_ => Json(HttpMethod.Post, "api/v1/volumes", """{"size": 65536, "chunkSize": """), 400, ErrorCodes.JsonInvalid, "JSON"),
        ["JSON of the wrong shape"] = (_ => Json(HttpMethod.Post, "api/v1/chunks/missing", """{"digests": 5}"""), 400, ErrorCodes.JsonInvalid, "digests"),
        ["missing entries"] = (s => Json(HttpMethod.Patch, $"api/v1/volumes/{s.Volume}/map", "{}"), 400, ErrorCodes.JsonInvalid, "entries"),
        ["bad digest in a map"] = (s => Json(HttpMethod.Patch, $"api/v1/volumes/{s.Volume}/map", """{"entries":[{"index":1,"digest":"md5:1234"}]}"""), 400, ErrorCodes.DigestInvalid, "entries[0].digest"),
        ["chunk size not a power of two"] = (_ => Json(HttpMethod.Post, "api/v1/volumes", """{"size": 196608, "chunkSize": 98304}"""), 400, ErrorCodes.ChunkSizeInvalid, "power of two"),
        ["chunk size too large"] = (_ => Json(HttpMethod.Post, "api/v1/volumes", """{"size": 4194304, "chunkSize": 2097152}"""), 400, ErrorCodes.ChunkSizeInvalid, "1 MiB"),
        ["size not a multiple of the chunk size"] = (_ => Json(HttpMethod.Post, "api/v1/volumes", """{"size": 100000, "chunkSize": 65536}"""), 400, ErrorCodes.ChunkSizeInvalid, "multiple"),
        ["index out of range"] = (s => Json(HttpMethod.Patch, $"api/v1/volumes/{s.Volume}/map", $$"""{"entries":[{"index":0,"digest":"{{s.Chunk}}"},{"index":16,"digest":"{{s.Chunk}}"}]}"""), 400, ErrorCodes.IndexOutOfRange, "16"),
        ["map names a chunk never uploaded"] = (s => Json(HttpMethod.Patch, $"api/v1/volumes/{s.Volume}/map", $$"""{"entries":[{"index":0,"digest":"{{s.Chunk}}"},{"index":1,"digest":"{{Unknown}}"}]}"""), 400, ErrorCodes.ChunkUnknown, Unknown),
        ["batch names an unknown chunk"] = (s => Json(HttpMethod.Post, "api/v1/chunks/batch", $$"""{"digests":["{{s.Chunk}}","{{Unknown}}"]}"""), 404, ErrorCodes.ChunkUnknown, Unknown),
        ["batch too long"] = (s => Json(HttpMethod.Post, "api/v1/chunks/batch", JsonSerializer.Serialize(new ChunkBatchRequest([.. Enumerable.Repeat(s.Chunk, 1025)]), CoreJsonContext.Default.ChunkBatchRequest)), 400, ErrorCodes.SizeInvalid, "1024"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_request_is_refused_by_name_and_changes_nothing(string name)
    {
        await using var server = await InProcessServer.StartAsync();
        var setup = await Setup.CreateAsync(server);
        var before = await StoreState.CaptureAsync(server);
        var (request, status, code, mentions) = CaseTable[name];

        using var response = await server.Http.SendAsync(request(setup));
        var error = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), CoreJsonContext.Default.ApiError)!;

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(code, error.Error);
        Assert.Contains(mentions, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await StoreState.CaptureAsync(server));
        Assert.Empty((await StoreState.FsckAsync(server.DataDirectory)).Problems);
    }

    [Fact]
    public async Task Chunk_upload_that_stalls_before_its_length_is_refused_and_stores_nothing()
    {
        await using var server = await InProcessServer.StartAsync();
        await Setup.CreateAsync(server);
        var before = await StoreState.CaptureAsync(server);
        var (socket, _) = await SendPartialChunkAsync(server, sent: 400, of: 1000);
        using (socket)
        {
            // Kestrel gives up on a body that stops arriving (minimum data rate, after its 5 s grace).
            var answer = await ReadToEndAsync(socket);

            Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
            Assert.Contains(ErrorCodes.BodyTruncated, answer, StringComparison.Ordinal);
            Assert.Contains("1000", answer, StringComparison.Ordinal);
        }

        Assert.Equal(before, await StoreState.CaptureAsync(server));
        Assert.Empty(Directory.EnumerateFiles(Path.Join(server.DataDirectory, "chunks", "tmp")));
    }

    [Fact]
    public async Task Chunk_upload_cut_off_by_the_client_stores_nothing()
    {
        await using var server = await InProcessServer.StartAsync();
        await Setup.CreateAsync(server);
        var before = await StoreState.CaptureAsync(server);
        var (socket, digest) = await SendPartialChunkAsync(server, sent: 400, of: 1000);
        using (socket)
        {
            socket.Shutdown(SocketShutdown.Send);
            var answer = await ReadToEndAsync(socket);
            Assert.DoesNotContain("HTTP/1.1 2", answer, StringComparison.Ordinal);
        }

        Assert.Equal(before, await StoreState.CaptureAsync(server));
        Assert.Single(await server.Client.FindMissingAsync([digest]));
        Assert.Empty(Directory.EnumerateFiles(Path.Join(server.DataDirectory, "chunks", "tmp")));
    }

    private static async Task<(Socket Socket, Digest Digest)> SendPartialChunkAsync(InProcessServer server, int sent, int of)
    {
        var data = new byte[of];
        Random.Shared.NextBytes(data);
        var digest = Digest.Compute(data);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Host.Address.Port);
        var head = $"PUT /api/v1/chunks/{digest} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {of}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        await socket.SendAsync(data.AsMemory(0, sent));
        return (socket, digest);
    }

    [Fact]
    public async Task Chunk_upload_without_content_length_is_refused()
    {
        await using var server = await InProcessServer.StartAsync();
        var data = "streamed"u8.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/chunks/{Digest.Compute(data)}")
        {
            Content = new StreamContent(new MemoryStream(data)),
        };
        request.Headers.TransferEncodingChunked = true;

        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.LengthRequired, response.StatusCode);
        Assert.Contains("Content-Length", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        var buffer = new byte[8192];
        var text = new StringBuilder();
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Kestrel resets a connection whose request body broke off (after its answer, if it sent one).
        }

        return text.ToString();
    }

    private static HttpRequestMessage Put(string path, byte[] body) => new(HttpMethod.Put, path) { Content = new ByteArrayContent(body) };

    private static HttpRequestMessage Json(HttpMethod method, string path, string json) =>
        new(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>Some state for bad requests to (fail to) change: a chunk, a 16-chunk volume using it, a snapshot.</summary>
    public sealed record Setup(string Chunk, string Volume)
    {
        public static async Task<Setup> CreateAsync(InProcessServer server)
        {
            var chunk = (await server.UploadRandomChunksAsync(1, 65536, new Random(99)))[0].Digest;
            var volume = await server.Client.CreateVolumeAsync(16 * 65536, 65536);
            await server.Client.UpdateMapAsync(volume.Id, [new BlockMapEntry(3, chunk.ToString())]);
            await server.Client.SnapshotAsync(volume.Id);
            await server.Client.UpdateMapAsync(volume.Id, [new BlockMapEntry(5, chunk.ToString())]);
            return new Setup(chunk.ToString(), volume.Id);
        }
    }
}
