using System.Globalization;
using System.Text;

namespace Slacker.Bench.Report;

/// <summary>
/// The project's goals for slacker against docker (issue "HelloBench"), each computed from this run's
/// measurements only, with the verdict. A goal whose inputs were not measured says so instead of passing.
/// </summary>
public static class GoalsTable
{
    public const string System = "slacker";

    /// <summary>The cluster system, whose goal is to stay close to the embedded default it shares everything else with.</summary>
    public const string Cluster = "slacker-cluster";

    public static void Render(BenchSummary summary, StringBuilder md)
    {
        if (!summary.MeasuredSystems.Contains(System))
        {
            return;
        }

        RenderAgainstBaseline(summary, md);
        if (summary.MeasuredSystems.Contains(Cluster))
        {
            RenderCluster(summary, md);
        }
    }

    private static void RenderAgainstBaseline(BenchSummary summary, StringBuilder md)
    {

        var images = summary.Images.Where(i => summary.Get(System, i.Name) is not null).ToList();
        var withBaseline = images.Where(i => summary.Get(BenchSummary.Baseline, i.Name) is not null).ToList();
        md.AppendLine().AppendLine($"## Goals ({System} against {BenchSummary.Baseline})").AppendLine();
        md.AppendLine("| goal | measured | verdict |");
        md.AppendLine("|---|---|---|");

        var deployment = BenchSummary.Median(withBaseline.Select(i => summary.Speedup(System, i.Name, m => m.Deployment)));
        Row(md, "median deployment-cycle speedup >= 10x", X(deployment), deployment is null ? null : deployment >= 10);
        var development = BenchSummary.Median(withBaseline.Select(i => summary.Speedup(System, i.Name, m => m.Development)));
        Row(md, "median development-cycle speedup >= 40x", X(development), development is null ? null : development >= 40);

        var pulls = summary.AllSeconds(System, "pull");
        var p95 = BenchSummary.Percentile(pulls, 95);
        Row(md, "pull p95 <= 50 ms, every image size",
            pulls.Count == 0 ? "—" : Invariant($"p95 {Ms(p95)} over {pulls.Count} pulls (max {Ms(pulls.Max())}; images {Mb(images.Min(i => summary.Get(System, i.Name)!.VolumeBytes))}-{Mb(images.Max(i => summary.Get(System, i.Name)!.VolumeBytes))} MB volumes)"),
            p95 is null ? null : p95 <= 0.050);

        // Per image: slacker's median run over docker's (above 1: slacker slower).
        var runRatios = withBaseline
            .Select(i => (i.Name, Ratio: summary.Get(System, i.Name)!.Run / summary.Get(BenchSummary.Baseline, i.Name)!.Run))
            .Where(r => r.Ratio is not null).ToList();
        Row(md, "run <= 1.5x docker's run", Worst(runRatios, 1.5), runRatios.Count == 0 ? null : runRatios.All(r => r.Ratio <= 1.5));

        var fetched = images.Select(i => (i.Name, Ratio: summary.Get(System, i.Name)!.FetchedPerRead)).Where(r => r.Ratio is not null).ToList();
        Row(md, "bytes fetched during run <= 2x bytes read", Worst(fetched, 2.0), fetched.Count == 0 ? null : fetched.All(r => r.Ratio <= 2.0));

        var parity = summary.Parity.Where(p => p.System == System && p.Throughput is not null).Select(p =>
        {
            var baseline = summary.Parity.FirstOrDefault(b => b.System == BenchSummary.Baseline && b.Image == p.Image)?.Throughput;
            return (Name: p.Image, Ratio: baseline is > 0 ? p.Throughput / baseline : null);
        }).Where(r => r.Ratio is not null).ToList();
        Row(md, "long-running throughput within 5% of docker's",
            parity.Count == 0 ? "not measured in this run (--parity)" : string.Join(", ", parity.Select(p => Invariant($"{p.Name} {p.Ratio:0.000}x"))),
            parity.Count > 0 ? parity.All(p => p.Ratio >= 0.95) : null);
    }

    /// <summary>Issue "scale-out": cycles through PostgreSQL + S3 within 1.5x of the embedded stores', image by image.</summary>
    private static void RenderCluster(BenchSummary summary, StringBuilder md)
    {
        var images = summary.Images.Where(i => summary.Get(System, i.Name) is not null && summary.Get(Cluster, i.Name) is not null).ToList();
        md.AppendLine().AppendLine($"## Goals ({Cluster} against {System}: PostgreSQL + Ceph S3 against SQLite + local files)").AppendLine();
        md.AppendLine("| goal | measured | verdict |");
        md.AppendLine("|---|---|---|");
        foreach (var (cycle, pick) in new (string, Func<CycleMedians, double?>)[] { ("deployment", m => m.Deployment), ("development", m => m.Development) })
        {
            var ratios = images.Select(i => (i.Name, Ratio: pick(summary.Get(Cluster, i.Name)!) / pick(summary.Get(System, i.Name)!)))
                .Where(r => r.Ratio is not null).ToList();
            Row(md, $"{cycle} cycle <= 1.5x the embedded default's", Worst(ratios, 1.5), ratios.Count == 0 ? null : ratios.All(r => r.Ratio <= 1.5));
        }
    }

    private static void Row(StringBuilder md, string goal, string measured, bool? met) =>
        md.AppendLine($"| {goal} | {measured} | {(met is null ? "not measured" : met.Value ? "met" : "**not met**")} |");

    /// <summary>"median 0.91x, worst 1.7x (java); 15 of 18 within 1.5x".</summary>
    private static string Worst(List<(string Name, double? Ratio)> ratios, double limit)
    {
        if (ratios.Count == 0)
        {
            return "—";
        }

        var worst = ratios.MaxBy(r => r.Ratio)!;
        var within = ratios.Count(r => r.Ratio <= limit);
        return Invariant($"median {BenchSummary.Median(ratios.Select(r => r.Ratio)):0.00}x, worst {worst.Ratio:0.00}x ({worst.Name}); {within} of {ratios.Count} images within {limit:0.0}x");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string X(double? ratio) => ratio is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) + "x" : "—";

    private static string Ms(double? seconds) => seconds is { } s ? (s * 1000).ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "—";

    private static string Mb(long? bytes) => bytes is { } b ? (b / 1e6).ToString("0", CultureInfo.InvariantCulture) : "?";
}
