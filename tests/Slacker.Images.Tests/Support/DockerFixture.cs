using System.Text.Json;
using Slacker.Bench.Drivers;

namespace Slacker.Images.Tests.Support;

/// <summary>
/// A dockerd of our own for the docker tests: the bench's <see cref="DockerEngine"/> (own data root, exec root and
/// socket; no iptables, no bridge; stopped by its PID, its mounts undone), even when the host runs a dockerd,
/// which is left alone.
/// </summary>
public sealed class DockerFixture : IAsyncLifetime
{
    // Short: the daemon's sockets live below it, and a unix socket path has at most 108 bytes.
    private readonly string _root = $"/var/tmp/slk-dkr-{Guid.NewGuid():N}"[..32];
    private DockerEngine? _engine;

    public string Socket => _engine?.Host ?? throw new InvalidOperationException("dockerd is not started.");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _engine = await DockerEngine.StartOwnAsync("docker", _root, CancellationToken.None);
    }

    public Task<string> RunAsync(params string[] arguments) => Tool.RunAsync("docker", ["-H", Socket, .. arguments]);

    /// <summary>The image's tree as overlay2 shows it: its layer directories mounted read-only as one overlay.</summary>
    public async Task<string> MountImageAsync(string image, string mountPoint)
    {
        var json = await RunAsync("image", "inspect", "--format", "{{json .GraphDriver.Data}}", image);
        var data = JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;
        var layers = data["UpperDir"] + (data.TryGetValue("LowerDir", out var lower) && lower.Length > 0 ? ":" + lower : "");
        Directory.CreateDirectory(mountPoint);
        if (layers.Contains(':', StringComparison.Ordinal))
        {
            await Tool.RunAsync("mount", "-t", "overlay", "overlay", "-o", $"ro,lowerdir={layers}", mountPoint);
        }
        else
        {
            await Tool.RunAsync("mount", "--bind", "-o", "ro", layers, mountPoint);
        }

        return mountPoint;
    }

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class DockerCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker";
}
