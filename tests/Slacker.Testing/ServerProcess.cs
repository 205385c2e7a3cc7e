using System.Globalization;
using System.Net;
using Slacker.Bench.Processes;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Native;

namespace Slacker.Testing;

/// <summary>
/// The real `slacker server` as a child process on a free 127.0.0.1 port with its own data directory, for tests
/// that must kill, pause or outlive it. Only this process is ever signalled, by its PID; Dispose kills it.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly SlackerProcess.Background _process;
    private readonly HttpClient _http;

    private ServerProcess(SlackerProcess.Background process, string dataDirectory, string host, int port)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Address = new Uri($"http://{host}:{port}/");
        _http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(100) };
        Client = new BlockStoreClient(_http);
    }

    public string DataDirectory { get; }

    public Uri Address { get; }

    /// <summary>The address without the trailing slash, as the CLI's --server takes it.</summary>
    public string Url => Address.ToString().TrimEnd('/');

    public int Pid => _process.Process.Id;

    /// <summary>What the server printed so far (stdout and stderr).</summary>
    public string Output => _process.Output;

    public BlockStoreClient Client { get; }

    /// <summary>Starts `slacker server --data DIR --listen 127.0.0.1:PORT OPTIONS...` and waits until /healthz answers.</summary>
    public static Task<ServerProcess> StartAsync(string dataDirectory, params string[] options) =>
        StartOnAsync("127.0.0.1", FreePort.Pick(), dataDirectory, options);

    /// <summary>Starts `slacker server --data DIR --listen HOST:PORT OPTIONS...` (a cluster's server on a bridge address).</summary>
    public static async Task<ServerProcess> StartOnAsync(string host, int port, string dataDirectory, params string[] options)
    {
        var process = new SlackerProcess.Background(["server", "--data", dataDirectory, "--listen", $"{host}:{port}", .. options]);
        var server = new ServerProcess(process, dataDirectory, host, port);
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>The value of a Prometheus counter on /metrics (0 when absent).</summary>
    public async Task<long> CounterAsync(string name) =>
        Slacker.Bench.Processes.PrometheusText.Counter(await _http.GetStringAsync(new Uri("metrics", UriKind.Relative)), name);

    /// <summary>Path of a chunk in the server's file store (chunks/ab/cd/abcd...).</summary>
    public string ChunkPath(Digest digest) => Path.Combine(DataDirectory, "chunks", digest.Hex[..2], digest.Hex[2..4], digest.Hex);

    public void Signal(int signal) => _process.Signal(signal);

    /// <summary>kill -9: no shutdown code runs, exactly like a power cut for the process (not for the disk).</summary>
    public void Kill9() => _process.Kill();

    /// <summary>SIGTERM and wait: the graceful stop a service manager does.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        try
        {
            if (!_process.Process.HasExited)
            {
                // A test may have paused it with SIGSTOP.
                Signal(Libc.SIGCONT);
                Kill9();
            }

            _process.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            _http.Dispose();
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.Process.HasExited)
            {
                throw new InvalidOperationException($"`slacker server` exited with {_process.Process.ExitCode} before it became healthy:\n{Output}");
            }

            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var response = await _http.GetAsync(new Uri("healthz", UriKind.Relative), attempt.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (OperationCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"`slacker server` did not become healthy within {timeout}:\n{Output}");
            }

            await Task.Delay(50);
        }
    }
}
