using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

/// <summary>A real Kestrel server on 127.0.0.1 (a free port) over a temp data directory, and a client for it.</summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private readonly TempDirectory _data;

    private ServerFixture(TempDirectory data, SlackerServerHost host)
    {
        _data = data;
        Host = host;
        Http = new HttpClient { BaseAddress = host.Address };
        Client = new BlockStoreClient(Http);
    }

    public SlackerServerHost Host { get; }

    public HttpClient Http { get; }

    public BlockStoreClient Client { get; }

    public string DataDirectory => _data.Path;

    public static async Task<ServerFixture> StartAsync(TimeSpan? gcGrace = null)
    {
        var data = new TempDirectory();
        try
        {
            var options = new ServerOptions { DataDirectory = data.Path, Listen = "127.0.0.1:0", GcGrace = gcGrace ?? TimeSpan.FromMinutes(10) };
            var host = await SlackerServerHost.StartAsync(options, logging => logging.ClearProviders());
            return new ServerFixture(data, host);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Uploads random chunks of the given size and returns their digests and bytes.</summary>
    public async Task<(Digest Digest, byte[] Bytes)[]> UploadRandomChunksAsync(int count, int size, Random random)
    {
        var chunks = new (Digest, byte[])[count];
        for (var i = 0; i < count; i++)
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            var digest = Digest.Compute(bytes);
            await Client.PutChunkAsync(digest, bytes);
            chunks[i] = (digest, bytes);
        }

        return chunks;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        _data.Dispose();
    }
}
