using Slacker.Bench.Processes;
using Slacker.Native.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Debian's docker-registry (the CNCF distribution registry) on 127.0.0.1, with its own config and storage.
/// Between cycles it is stopped, its storage deleted and started again on the same port: every push then
/// uploads every blob, and no garbage-collect pass (which needs the registry stopped anyway) is involved.
/// </summary>
public sealed class DistributionRegistry : IAsyncDisposable
{
    private readonly string _dir;
    private OwnedDaemon? _daemon;

    private DistributionRegistry(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public string Binary { get; private init; } = "docker-registry";

    private string StorageDir => Path.Combine(_dir, "storage");

    public static async Task<DistributionRegistry> StartAsync(string workDir, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(workDir, "registry");
        Directory.CreateDirectory(dir);
        var registry = new DistributionRegistry(dir, FreePort.Pick());
        await File.WriteAllTextAsync(Path.Combine(dir, "config.yml"), $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {registry.StorageDir}
              delete:
                enabled: true
            http:
              addr: {registry.Address}
            """, cancellationToken);
        await registry.LaunchAsync(cancellationToken);
        return registry;
    }

    /// <summary>Empties the registry: stop, delete storage, start.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await StopAsync();
        if (Directory.Exists(StorageDir))
        {
            Directory.Delete(StorageDir, recursive: true);
        }

        await LaunchAsync(cancellationToken);
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync(Binary, ["--version"], cancellationToken: cancellationToken);
        return result.StandardOutput.Trim();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private async Task StopAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
            _daemon = null;
        }
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        _daemon = OwnedDaemon.Start(Binary, ["serve", Path.Combine(_dir, "config.yml")], Path.Combine(_dir, "registry.log"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://{Address}/v2/"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (_daemon.HasExited || DateTime.UtcNow > deadline)
            {
                var tail = _daemon.LogTail();
                await StopAsync();
                throw new InvalidOperationException($"docker-registry did not answer on http://{Address}/v2/ within 30 s; its log ({_dir}/registry.log) ends:\n{tail}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
