using System.Diagnostics;
using System.Text.Json;
using Slacker.Native;

namespace Slacker.Images.Tests.Support;

/// <summary>
/// A dockerd of our own (own data root, exec root, socket; no iptables, no bridge), started for the docker
/// tests and stopped by its PID afterwards. Another dockerd on the machine is left alone.
/// </summary>
public sealed class DockerFixture : IAsyncLifetime
{
    private readonly string _root = $"/var/tmp/slk-dkr-{Guid.NewGuid():N}"[..32];
    private Process? _daemon;

    public string Socket => $"unix://{_root}/docker.sock";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var start = new ProcessStartInfo("dockerd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--iptables=false", "--ip6tables=false", "--bridge=none", "--userland-proxy=false", "--storage-driver=overlay2",
            "--data-root", $"{_root}/data", "--exec-root", $"{_root}/exec", "--pidfile", $"{_root}/docker.pid", "-H", Socket,
        })
        {
            start.ArgumentList.Add(argument);
        }

        _daemon = Process.Start(start)!;
        _daemon.OutputDataReceived += (_, _) => { };
        _daemon.ErrorDataReceived += (_, _) => { };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        for (var attempt = 0; attempt < 120; attempt++)
        {
            if ((await Tool.RunRawAsync("docker", null, "-H", Socket, "info")).ExitCode == 0)
            {
                return;
            }

            if (_daemon.HasExited)
            {
                throw new InvalidOperationException($"dockerd exited with {_daemon.ExitCode} while starting.");
            }

            await Task.Delay(500);
        }

        throw new TimeoutException("dockerd did not answer within 60 s.");
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
        if (_daemon is { HasExited: false })
        {
            // SIGTERM, so that dockerd stops its containerd and unmounts its overlays.
            _ = Libc.Kill(_daemon.Id, Libc.SIGTERM);
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _daemon.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                _daemon.Kill(entireProcessTree: true);
            }
        }

        _daemon?.Dispose();
        // dockerd unmounts its overlays on exit; anything it left under our root is ours to unmount.
        await Mounts.UnmountBelowAsync(_root);

        Directory.Delete(_root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class DockerCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker";
}
