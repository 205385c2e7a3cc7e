using Slacker.Bench.Report;
using Slacker.Bench.Runner;

namespace Slacker.Bench.Tests;

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
    public async Task Docker_Run_Of_Busybox_Writes_Well_Formed_Results_And_Report()
    {
        using var log = new StringWriter();
        var options = new BenchOptions
        {
            CorpusPath = CorpusFileTests.RepoCorpusPath(),
            Systems = ["docker", "slacker"],
            Images = ["busybox"],
            Reps = 1,
            OutputDirectory = _out,
            CacheDirectory = CorpusCache.Dir,
            WorkDirectory = Path.Combine(_out, "work"),
            SlackerCli = Path.Combine(_out, "no-such-slacker"),
        };

        var exit = await BenchRunner.RunAsync(options, log, CancellationToken.None);

        Assert.True(exit == 0, log.ToString());
        Assert.Empty(OutputValidator.Validate(_out));
        var records = RecordLog.Read(Path.Combine(_out, ReportWriter.ResultsFile));
        Assert.Equal(["push", "pull", "run"], records.Where(r => r.Kind == "measure").Select(r => r.Op));
        var slacker = Assert.Single(records, r => r.Kind == "system" && r.System == "slacker");
        Assert.Equal("skipped", slacker.Status);
        Assert.Contains("no-such-slacker", slacker.Message);
        Assert.Contains("| busybox | distro | echo |", File.ReadAllText(Path.Combine(_out, ReportWriter.MarkdownFile)));
        Assert.False(Directory.Exists(Path.Combine(_out, "work", "docker")), "the bench's own dockerd must be stopped and its dirs removed");
    }
}
