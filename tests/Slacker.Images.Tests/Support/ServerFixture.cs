using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Server;

namespace Slacker.Images.Tests.Support;

/// <summary>A real Slacker server (Kestrel on 127.0.0.1, a free port) over a temp data directory.</summary>
#pragma warning disable CA1001 // xunit disposes fixtures through IAsyncLifetime.DisposeAsync, which releases both fields.
public sealed class ServerFixture : IAsyncLifetime
#pragma warning restore CA1001
{
    private readonly TempDirectory _data = new("server");

    public SlackerServerHost Host { get; private set; } = null!;

    public Uri Address => Host.Address;

    /// <summary>host:port, as registry references and skopeo/docker want it.</summary>
    public string Registry => $"{Address.Host}:{Address.Port}";

    public string DataDirectory => _data.Path;

    public BlockStoreClient Blocks { get; private set; } = null!;

    private HttpClient? _http;

    /// <summary>The node's VolumeImporter against this server, as the CLI wires it.</summary>
    public async Task<Import.VolumeUpload> UploadVolume(string path, int chunkSize, string label, CancellationToken ct)
    {
        var result = await Node.Volumes.VolumeImporter.ImportAsync(new Node.BlockStoreClientAdapter(Blocks), path, chunkSize, label, cancellationToken: ct);
        return new Import.VolumeUpload(result.Volume.Id, result.Snapshot, result.Chunks, result.ZeroChunks, result.UploadedChunks, result.UploadedBytes);
    }

    public async Task InitializeAsync()
    {
        Host = await SlackerServerHost.StartAsync(
            new ServerOptions { DataDirectory = _data.Path, Listen = "127.0.0.1:0" },
            logging => logging.SetMinimumLevel(LogLevel.Warning));
        _http = new HttpClient { BaseAddress = Address };
        Blocks = new BlockStoreClient(_http);
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        await Host.DisposeAsync();
        _data.Dispose();
    }
}
