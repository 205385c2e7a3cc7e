using System.Xml.Linq;
using Slacker.Bench.Report;
using Slacker.Bench.Runner;

namespace Slacker.Bench.Tests;

public sealed class ReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Report_Holds_Medians_Sums_Per_Rep_And_Speedups()
    {
        WriteResults(Records());

        var summary = ReportWriter.Write(Path.Combine(_dir, ReportWriter.ResultsFile), _dir);

        var docker = summary.Get("docker", "busybox")!;
        Assert.Equal(2.0, docker.Push);
        Assert.Equal(2.0, docker.Pull);
        Assert.Equal(3.0, docker.Deployment); // per-rep sums 3, 3, 9 -> 3, not median(pull) + median(run)
        Assert.Equal(5.0, docker.Development);
        var slacker = summary.Get("slacker", "busybox")!;
        Assert.Equal(1.4, slacker.Deployment!.Value, 6);
        Assert.Equal(1_000_000, slacker.BytesFetched);

        var markdown = File.ReadAllText(Path.Combine(_dir, ReportWriter.MarkdownFile));
        Assert.Contains("| busybox | distro | echo | 1.0 | docker | 2.000 | 2.000 | 1.000 | 3.000 | 5.000 |", markdown);
        Assert.Contains("| busybox | distro | echo | 1.0 | slacker | 0.200 | 0.100 | 1.300 | 1.400 | 1.700 |", markdown);
        Assert.Contains("| busybox | slacker | 10.00x | 20.00x | 0.77x | 2.14x | 2.94x |", markdown);
        Assert.Contains("| slacker | 1 | 1.400 | 1.700 | 7.1% | 2.14x | 2.94x | 25.0% |", markdown);
        Assert.Contains("command: `slacker bench --reps 3`", markdown);
        Assert.Contains("| busybox | 10.0 | 0.4 | 1.0 | 2.50x | 10.0% |", markdown);
        Assert.Contains("| busybox | 1.500 | 1.250 | 1.50x | 1.25x | 2.0 | 1.0 |", markdown); // first rep against the later ones
        Assert.Contains("| median deployment-cycle speedup >= 10x | 2.1x | **not met** |", markdown);
        Assert.Contains("| pull p95 <= 50 ms, every image size | p95 100.0 ms over 3 pulls (max 100.0 ms; images 10-10 MB volumes) | **not met** |", markdown);
        Assert.Contains("| run <= 1.5x docker's run | median 1.30x, worst 1.30x (busybox); 1 of 1 images within 1.5x | met |", markdown);
        Assert.Contains("| bytes fetched during run <= 2x bytes read | median 2.50x, worst 2.50x (busybox); 0 of 1 images within 2.0x | **not met** |", markdown);
        Assert.Contains("| long-running throughput within 5% of docker's | not measured in this run (--parity) | not measured |", markdown);

        var times = XDocument.Load(Path.Combine(_dir, ReportWriter.TimesChart));
        Assert.Equal("svg", times.Root!.Name.LocalName);
        var titles = times.Descendants().Where(e => e.Name.LocalName == "title").Select(e => e.Value).ToList();
        Assert.Contains("busybox docker pull: 2.000 s", titles);
        Assert.Contains("busybox slacker run: 1.300 s", titles);

        var speedups = File.ReadAllText(Path.Combine(_dir, ReportWriter.SpeedupChart));
        Assert.Contains("slacker deployment (median 2.14x)", speedups);
        Assert.Contains("slacker development (median 2.94x)", speedups);
        Assert.Empty(OutputValidator.Validate(_dir));
    }

    [Fact]
    public void Validator_Names_What_Is_Missing()
    {
        var records = Records().Where(r => !(r.System == "slacker" && r.Rep == 2 && r.Op == "pull")).ToList();
        records.Add(new BenchRecord { Kind = "failure", System = "slacker", Image = "busybox", Rep = 2, Op = "pull", Message = "pull exploded\nmore" });
        WriteResults(records);
        ReportWriter.Write(Path.Combine(_dir, ReportWriter.ResultsFile), _dir);

        var problems = OutputValidator.Validate(_dir);

        Assert.Contains("slacker / busybox rep 2: no valid 'pull' measurement.", problems);
        Assert.Contains("failure: slacker / busybox rep 2 pull: pull exploded", problems);
        Assert.Contains("pull exploded", File.ReadAllText(Path.Combine(_dir, ReportWriter.MarkdownFile)));
    }

    [Fact]
    public void Validator_Rejects_A_Broken_Results_File()
    {
        File.WriteAllText(Path.Combine(_dir, ReportWriter.ResultsFile), "{\"kind\":\"run\"}\nnot json\n");

        var problem = Assert.Single(OutputValidator.Validate(_dir));

        Assert.Contains("results.jsonl:2: not a bench record", problem);
    }

    [Fact]
    public void Speedup_Chart_Says_So_When_Only_The_Baseline_Ran()
    {
        WriteResults(Records().Where(r => r.System != "slacker").ToList());

        ReportWriter.Write(Path.Combine(_dir, ReportWriter.ResultsFile), _dir);

        Assert.Contains("no speedups", File.ReadAllText(Path.Combine(_dir, ReportWriter.SpeedupChart)));
        Assert.DoesNotContain("## Speedup against", File.ReadAllText(Path.Combine(_dir, ReportWriter.MarkdownFile)));
    }

    private void WriteResults(List<BenchRecord> records)
    {
        using var log = new RecordLog(Path.Combine(_dir, ReportWriter.ResultsFile));
        foreach (var record in records)
        {
            log.Write(record);
        }
    }

    private static List<BenchRecord> Records()
    {
        var records = new List<BenchRecord>
        {
            new() { Kind = "run", Host = "test", Kernel = "6.18", Cpus = 2, MemoryBytes = 1L << 34, Command = "slacker bench --reps 3", Corpus = "corpus.json", Reps = 3, Time = DateTimeOffset.UnixEpoch },
            new() { Kind = "system", System = "docker", Status = "ok", Version = "dockerd 20.10" },
            new() { Kind = "system", System = "slacker", Status = "ok", Version = "slacker 0.1" },
            new() { Kind = "image", Image = "busybox", Category = "distro", Mode = "echo", CompressedBytes = 1_000_000, UncompressedBytes = 4_000_000, Layers = 3 },
        };
        double[][] docker = [[1, 2, 1], [2, 2, 1], [3, 8, 1]];
        double[][] slacker = [[0.1, 0.1, 1.5], [0.2, 0.1, 1.2], [0.3, 0.1, 1.3]];
        foreach (var (system, reps) in new[] { ("docker", docker), ("slacker", slacker) })
        {
            for (var rep = 0; rep < reps.Length; rep++)
            {
                records.Add(new() { Kind = "measure", System = system, Image = "busybox", Rep = rep + 1, Op = "push", Seconds = reps[rep][0] });
                records.Add(new() { Kind = "measure", System = system, Image = "busybox", Rep = rep + 1, Op = "pull", Seconds = reps[rep][1] });
                records.Add(new()
                {
                    Kind = "measure", System = system, Image = "busybox", Rep = rep + 1, Op = "run", Seconds = reps[rep][2],
                    BytesFetched = system == "slacker" ? (rep == 0 ? 2_000_000 : 1_000_000) : null,
                    BytesRead = system == "slacker" ? 400_000 : null,
                    SystemImageBytes = system == "slacker" ? 10_000_000 : null,
                });
            }
        }

        return records;
    }
}
