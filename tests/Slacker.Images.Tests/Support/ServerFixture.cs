using Slacker.Core.Api;
using Slacker.Server;

namespace Slacker.Images.Tests.Support;

/// <summary>A real Slacker server (<see cref="InProcessServer"/>) shared by a test class, with the node's volume upload wired to it.</summary>
#pragma warning disable CA1001 // xunit disposes fixtures through IAsyncLifetime.DisposeAsync, which releases the server.
public sealed class ServerFixture : IAsyncLifetime
#pragma warning restore CA1001
{
    private InProcessServer? _server;

    private InProcessServer Server => _server ?? throw new InvalidOperationException("the server fixture is not started yet.");

    public SlackerServerHost Host => Server.Host;

    public Uri Address => Server.Address;

    /// <summary>host:port, as registry references and skopeo/docker want it.</summary>
    public string Registry => Server.Registry;

    public string DataDirectory => Server.DataDirectory;

    public BlockStoreClient Blocks => Server.Client;

    /// <summary>The node's VolumeImporter against this server, as the CLI wires it.</summary>
    public async Task<Import.VolumeUpload> UploadVolume(string path, int chunkSize, string label, CancellationToken ct)
    {
        var result = await Node.Volumes.VolumeImporter.ImportAsync(new Node.BlockStoreClientAdapter(Blocks), path, chunkSize, label, cancellationToken: ct);
        return new Import.VolumeUpload(result.Volume.Id, result.Snapshot, result.Chunks, result.ZeroChunks, result.UploadedChunks, result.UploadedBytes);
    }

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
