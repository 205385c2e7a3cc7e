using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slacker.E2E.Tests.Fixtures;
using Slacker.Node.Containers;

namespace Slacker.E2E.Tests.Runtime;

/// <summary>A ContainerManager over a temp data dir with directory roots and the real OCI runtime.</summary>
public sealed class RuntimeFixture : IAsyncDisposable
{
    public required string Template { get; init; }

    public required DirectoryRootProvider Roots { get; init; }

    public required ContainerManager Manager { get; init; }

    public static async Task<RuntimeFixture> CreateAsync(string runtime = "crun")
    {
        var template = await BusyboxRootfs.TemplateAsync();
        var dataDir = Directory.CreateTempSubdirectory("slacker-runtime-").FullName;
        var roots = new DirectoryRootProvider(dataDir);
        var manager = new ContainerManager(new ContainerStore(dataDir), roots, runtime, Path.Join(dataDir, "runtime"), NullLogger.Instance);
        await manager.RecoverAsync(CancellationToken.None);
        return new RuntimeFixture { Template = template, Roots = roots, Manager = manager, Data = dataDir };
    }

    public required string Data { get; init; }

    public ContainerConfig Config(params string[] cmd) => new(Template, cmd);

    /// <summary>Creates, starts and waits for a container; returns its exit code and its output from the log.</summary>
    public async Task<(int? ExitCode, string Stdout, string Stderr)> RunAsync(ContainerConfig config)
    {
        var record = await Manager.CreateAsync(config, CancellationToken.None);
        try
        {
            await Manager.StartAsync(record.Id, CancellationToken.None);
            var done = await Manager.WaitAsync(record.Id, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
            var (stdout, stderr) = ReadLog(record.Id);
            Assert.True(done.Error is null, done.Error);
            return (done.ExitCode, stdout, stderr);
        }
        finally
        {
            await Manager.RemoveAsync(record.Id, force: true, CancellationToken.None);
        }
    }

    /// <summary>Waits (at most a minute) for text in the container's stdout; fails at once if the container ended.</summary>
    public async Task WaitForOutputAsync(string id, string text)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!ReadLog(id).Stdout.Contains(text, StringComparison.Ordinal))
        {
            var record = Manager.Get(id);
            Assert.True(record.Status == ContainerStatus.Running, $"container ended ({record.ExitCode}) before printing '{text}': {ReadLog(id).Stderr}");
            Assert.True(DateTime.UtcNow < deadline, $"no '{text}' within a minute");
            await Task.Delay(20);
        }
    }

    public (string Stdout, string Stderr) ReadLog(string id)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var line in File.ReadAllText(Manager.Store.LogOf(id)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.True(ContainerLogRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record), $"bad log line: {line}");
            var target = record.Stream == StdioStream.Stdout ? stdout : stderr;
            target.Append(Encoding.UTF8.GetString(record.Text.Span));
            if (!record.Partial)
            {
                target.Append('\n');
            }
        }

        return (stdout.ToString(), stderr.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        foreach (var record in Manager.List(all: true))
        {
            await Manager.RemoveAsync(record.Id, force: true, CancellationToken.None);
        }

        Directory.Delete(Data, recursive: true);
    }
}
