using System.Diagnostics;
using Slacker.Bench.Report;
using Slacker.Bench.Runner;
using Slacker.Testing;

namespace Slacker.Bench.Tests;

/// <summary>`slacker bench --smoke`, the CI check of the whole harness: the real CLI as a process, slacker and docker.</summary>
[Collection(RealSystemCollection.Name)]
public sealed class BenchRunnerTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("hb-run-").FullName;

    public void Dispose()
    {
        Processes.MountCleanup.UnmountBelow(_out);
        Directory.Delete(_out, recursive: true);
    }

    [Fact]
    public async Task Smoke_Measures_Slacker_And_Docker_On_Debian_And_Busybox_And_Writes_A_Valid_Report()
    {
        var cli = Drivers.SlackerExecutable.Cli(SlackerProcess.Executable);
        var info = new ProcessStartInfo(cli.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in cli.GlobalArguments.Concat(["bench", "--smoke", "--out", _out, "--cache", CorpusCache.Dir]))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment[Drivers.SlackerExecutable.EnvironmentVariable] = SlackerProcess.Executable;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(timeout.Token);
        var log = await stderr + await stdout;

        Assert.True(process.ExitCode == 0, log);
        Assert.Contains("[smoke] output is well formed", log, StringComparison.Ordinal);
        Assert.Empty(OutputValidator.Validate(_out));
        var records = RecordLog.Read(Path.Combine(_out, ReportWriter.ResultsFile));
        Assert.DoesNotContain(records, r => r.Kind == "failure");
        foreach (var system in new[] { "slacker", "docker" })
        {
            Assert.Equal("ok", Assert.Single(records, r => r.Kind == "system" && r.System == system).Status);
            foreach (var image in new[] { "debian", "busybox" })
            {
                Assert.Equal(["push", "pull", "run"], records.Where(r => r.Kind == "measure" && r.System == system && r.Image == image).Select(r => r.Op));
            }
        }

        var slackerRuns = records.Where(r => r.Kind == "measure" && r.System == "slacker" && r.Op == "run").ToList();
        Assert.All(slackerRuns, r => Assert.True(r.BytesFetched > 0 && r.BytesRead > 0 && r.BytesFetched < r.SystemImageBytes, $"{r.Image}: fetched {r.BytesFetched}, read {r.BytesRead}, volume {r.SystemImageBytes}"));
        var report = File.ReadAllText(Path.Combine(_out, ReportWriter.MarkdownFile));
        Assert.Contains("## Goals (slacker against docker)", report, StringComparison.Ordinal);
        Assert.Contains("| debian | distro | echo |", report, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_out, "work", "docker")), "the bench's own dockerd must be stopped and its dirs removed");
        Assert.False(Directory.Exists(Path.Combine(_out, "work", "slacker")), "the bench's own slacker server and node must be stopped and their dirs removed");
        Assert.False(Directory.Exists(Path.Combine(_out, "work")), "the work dir the bench made must be gone once it is empty: " + string.Join(", ", Directory.Exists(Path.Combine(_out, "work")) ? Directory.EnumerateFileSystemEntries(Path.Combine(_out, "work"), "*", SearchOption.AllDirectories) : []));
    }
}
