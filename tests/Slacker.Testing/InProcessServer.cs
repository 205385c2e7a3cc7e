using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Server;

namespace Slacker.Testing;

/// <summary>A real Slacker server (Kestrel on 127.0.0.1, a free port) in this process, over a temp data directory, and a client for it.</summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private readonly TempDirectory _data;

    private InProcessServer(TempDirectory data, SlackerServerHost host)
    {
        _data = data;
        Host = host;
        Http = new HttpClient { BaseAddress = host.Address };
        Client = new BlockStoreClient(Http);
    }

    public SlackerServerHost Host { get; }

    public Uri Address => Host.Address;

    /// <summary>host:port, as registry references and skopeo/docker want it.</summary>
    public string Registry => $"{Address.Host}:{Address.Port}";

    public HttpClient Http { get; }

    public BlockStoreClient Client { get; }

    public string DataDirectory => _data.Path;

    public static async Task<InProcessServer> StartAsync(TimeSpan? gcGrace = null)
    {
        var data = new TempDirectory("slacker-server");
        try
        {
            var options = new ServerOptions { DataDirectory = data.Path, Listen = "127.0.0.1:0", GcGrace = gcGrace ?? TimeSpan.FromMinutes(10) };
            var host = await SlackerServerHost.StartAsync(options, logging => logging.SetMinimumLevel(LogLevel.Warning));
            return new InProcessServer(data, host);
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
        ArgumentNullException.ThrowIfNull(random);
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
