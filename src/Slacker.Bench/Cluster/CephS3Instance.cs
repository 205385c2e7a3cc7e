using System.Globalization;
using Slacker.Native.Processes;

namespace Slacker.Bench.Cluster;

/// <summary>
/// A throw-away single-node Ceph cluster whose radosgw serves S3 on 127.0.0.1:<see cref="Port"/>, all of its
/// state under one directory (tools/start-ceph-s3.sh). Dispose stops exactly the daemons the script recorded
/// and deletes the directory.
/// </summary>
public sealed class CephS3Instance : IAsyncDisposable
{
    private readonly string _tools;

    private CephS3Instance(string directory, string tools, int port, string accessKey, string secretKey)
    {
        Directory = directory;
        _tools = tools;
        Port = port;
        AccessKey = accessKey;
        SecretKey = secretKey;
    }

    public string Directory { get; }

    public int Port { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>The --chunks location of a bucket in this instance.</summary>
    public string Location(string bucket) => $"s3://{bucket}?endpoint={Endpoint.ToString().TrimEnd('/')}";

    /// <summary>What a slacker server needs in its environment to use this instance.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
    };

    /// <summary>The repository's tools directory, found upward from the running program (tools/start-ceph-s3.sh).</summary>
    public static string FindTools()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Join(dir.FullName, "tools", "start-ceph-s3.sh")))
            {
                return Path.Join(dir.FullName, "tools");
            }
        }

        throw new FileNotFoundException("tools/start-ceph-s3.sh was not found above " + AppContext.BaseDirectory + ": run from a checkout of the repository.");
    }

    public static async Task<CephS3Instance> StartAsync(string directory, int s3Port, int monitorPort, CancellationToken ct = default)
    {
        var tools = FindTools();
        var environment = new Dictionary<string, string>
        {
            ["S3_PORT"] = s3Port.ToString(CultureInfo.InvariantCulture),
            ["MON_PORT"] = monitorPort.ToString(CultureInfo.InvariantCulture),
            ["CEPH_INSTALL"] = "0",
        };
        var result = await ProcessRunner.RunAsync(Path.Join(tools, "start-ceph-s3.sh"), [directory],
            new ProcessOptions { Environment = environment, Timeout = TimeSpan.FromMinutes(3) }, ct);
        var values = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        var instance = new CephS3Instance(directory, tools, s3Port, values.GetValueOrDefault("S3_ACCESS_KEY", ""), values.GetValueOrDefault("S3_SECRET_KEY", ""));
        if (!result.Succeeded || instance.AccessKey.Length == 0)
        {
            await instance.DisposeAsync();
            throw new InvalidOperationException($"Ceph S3 did not start (exit {result.ExitCode}); is ceph installed (apt-get install ceph-mon ceph-osd radosgw ceph-common)?\n{result.StandardError}");
        }

        return instance;
    }

    public async ValueTask DisposeAsync() =>
        await ProcessRunner.RunAsync(Path.Join(_tools, "stop-ceph-s3.sh"), [Directory, "--purge"], new ProcessOptions { Timeout = TimeSpan.FromMinutes(2) });
}
