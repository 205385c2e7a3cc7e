using System.Globalization;
using System.Text;

namespace Slacker.Bench.Report;

/// <summary>report.md: medians per image and system, speedups against docker, and the paper's headline ratios.</summary>
public static class MarkdownReport
{
    public static string Render(BenchSummary summary)
    {
        var md = new StringBuilder();
        md.AppendLine("# HelloBench results").AppendLine();
        if (summary.Run is { } run)
        {
            md.AppendLine(Invariant($"- date: {run.Time:yyyy-MM-dd HH:mm} UTC"));
            md.AppendLine(Invariant($"- machine: {run.Host}, Linux {run.Kernel}, {run.Cpus} CPUs, {Gib(run.MemoryBytes)} GiB memory"));
            md.AppendLine(Invariant($"- command: `{run.Command}`"));
            md.AppendLine(Invariant($"- corpus: {run.Corpus}; {run.Reps} rep(s) per image and system"));
        }

        md.AppendLine("- systems:");
        foreach (var system in summary.Systems)
        {
            md.AppendLine(system.Status == "ok"
                ? $"  - **{system.Name}**: {system.Version}"
                : $"  - **{system.Name}**: {system.Status}: {system.Message}");
        }

        md.AppendLine().AppendLine("Times are medians of wall-clock seconds over reps. Deployment = pull + run, development = push + pull + run,")
            .AppendLine("summed within each rep before the median. Only measurements of this one run are used.").AppendLine();

        md.AppendLine("## Median seconds per image").AppendLine();
        md.AppendLine("| image | category | mode | layers MB (gz) | system | push | pull | run | deployment | development |");
        md.AppendLine("|---|---|---|---:|---|---:|---:|---:|---:|---:|");
        foreach (var image in summary.Images)
        {
            foreach (var system in summary.MeasuredSystems)
            {
                if (summary.Get(system, image.Name) is not { } m)
                {
                    continue;
                }

                md.AppendLine(Invariant(
                    $"| {image.Name} | {image.Category} | {image.Mode} | {Mb(image.CompressedBytes)} | {system} | {S(m.Push)} | {S(m.Pull)} | {S(m.Run)} | {S(m.Deployment)} | {S(m.Development)} |"));
            }
        }

        var others = summary.MeasuredSystems.Where(s => s != BenchSummary.Baseline).ToList();
        if (summary.MeasuredSystems.Contains(BenchSummary.Baseline) && others.Count > 0)
        {
            md.AppendLine().AppendLine($"## Speedup against {BenchSummary.Baseline}").AppendLine();
            md.AppendLine($"{BenchSummary.Baseline} median / system median: above 1 is faster than {BenchSummary.Baseline}.").AppendLine();
            md.AppendLine("| image | system | push | pull | run | deployment | development |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var image in summary.Images)
            {
                foreach (var system in others)
                {
                    if (summary.Get(system, image.Name) is null || summary.Get(BenchSummary.Baseline, image.Name) is null)
                    {
                        continue;
                    }

                    md.AppendLine(Invariant(
                        $"| {image.Name} | {system} | {X(summary.Speedup(system, image.Name, m => m.Push))} | {X(summary.Speedup(system, image.Name, m => m.Pull))} | {X(summary.Speedup(system, image.Name, m => m.Run))} | {X(summary.Speedup(system, image.Name, m => m.Deployment))} | {X(summary.Speedup(system, image.Name, m => m.Development))} |"));
                }
            }
        }

        md.AppendLine().AppendLine("## Summary over images").AppendLine();
        md.AppendLine($"| system | images | median deployment s | median development s | pull share of deployment | median deployment speedup vs {BenchSummary.Baseline} | median development speedup vs {BenchSummary.Baseline} | fetched during run / image (tar bytes) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var system in summary.MeasuredSystems)
        {
            var cells = summary.Images.Select(i => (Image: i, M: summary.Get(system, i.Name))).Where(x => x.M is not null).ToList();
            var pullShare = BenchSummary.Median(cells.Select(c => c.M!.Pull / c.M.Deployment));
            var readShare = BenchSummary.Median(cells.Select(c => c.M!.BytesFetched is { } f && c.Image.UncompressedBytes is { } u && u > 0 ? (double)f / u : (double?)null));
            md.AppendLine(Invariant(
                $"| {system} | {cells.Count} | {S(BenchSummary.Median(cells.Select(c => c.M!.Deployment)))} | {S(BenchSummary.Median(cells.Select(c => c.M!.Development)))} | {P(pullShare)} | {(system == BenchSummary.Baseline ? "1.00x" : X(BenchSummary.Median(cells.Select(c => summary.Speedup(system, c.Image.Name, m => m.Deployment)))))} | {(system == BenchSummary.Baseline ? "1.00x" : X(BenchSummary.Median(cells.Select(c => summary.Speedup(system, c.Image.Name, m => m.Development)))))} | {P(readShare)} |"));
        }

        RenderFetched(summary, md);
        RenderFirstRun(summary, md);
        GoalsTable.Render(summary, md);

        if (summary.Parity.Count > 0)
        {
            md.AppendLine().AppendLine("## Long-running parity").AppendLine();
            md.AppendLine($"Server container under a client load (a second container of the same image) after one warm-up run. Ratio = system / {BenchSummary.Baseline} throughput.").AppendLine();
            md.AppendLine($"| image | system | first answered request s | throughput | vs {BenchSummary.Baseline} |");
            md.AppendLine("|---|---|---:|---:|---:|");
            foreach (var p in summary.Parity)
            {
                var baseline = summary.Parity.FirstOrDefault(b => b.System == BenchSummary.Baseline && b.Image == p.Image)?.Throughput;
                var ratio = p.Throughput is { } t && baseline is { } b && b > 0 ? t / b : (double?)null;
                md.AppendLine(Invariant($"| {p.Image} | {p.System} | {S(p.FirstAnswerSeconds)} | {(p.Throughput is { } v ? v.ToString("0.#", CultureInfo.InvariantCulture) + " " + p.Unit : "—")} | {X(ratio)} |"));
            }
        }

        if (summary.Failures.Count > 0)
        {
            md.AppendLine().AppendLine("## Failures").AppendLine();
            foreach (var failure in summary.Failures)
            {
                var first = (failure.Message ?? string.Empty).Split('\n')[0];
                md.AppendLine(Invariant($"- {failure.System ?? "-"} / {failure.Image ?? "-"} rep {failure.Rep?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {failure.Op}: {first}"));
            }
        }

        md.AppendLine().AppendLine("Charts: [times.svg](times.svg) (median push/pull/run per image and system), [speedups.svg](speedups.svg) (CDF of per-image speedups).");
        return md.ToString();
    }

    /// <summary>Per image: what a lazily started container read through its volume and what the node fetched for it.</summary>
    private static void RenderFetched(BenchSummary summary, StringBuilder md)
    {
        var rows = summary.Images.Select(i => (Image: i, M: summary.Get(GoalsTable.System, i.Name))).Where(x => x.M?.BytesFetched is not null).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine().AppendLine($"## {GoalsTable.System}: data moved during run").AppendLine();
        md.AppendLine("Medians over reps. read = bytes the kernel read from the container's root volume (ext4 through the loop device, with its");
        md.AppendLine("read-ahead); fetched = bytes the node fetched from the server for it (the cache was empty before the pull).").AppendLine();
        md.AppendLine("| image | volume MB | read MB | fetched MB | fetched / read | fetched / volume |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (image, m) in rows)
        {
            md.AppendLine(Invariant(
                $"| {image.Name} | {Mb(m!.VolumeBytes)} | {Mb(m.BytesRead)} | {Mb(m.BytesFetched)} | {X(m.FetchedPerRead)} | {P(m.VolumeBytes is > 0 ? (double)m.BytesFetched!.Value / m.VolumeBytes.Value : null)} |"));
        }
    }

    /// <summary>
    /// Per image: the first run of a snapshot (no startup profile yet: it records one) against the later runs (which
    /// replay it on a node whose cache was emptied), each also against docker's median run. The medians above mix both.
    /// </summary>
    private static void RenderFirstRun(BenchSummary summary, StringBuilder md)
    {
        var rows = summary.Images.Select(i => (Image: i, Split: summary.Get(GoalsTable.System, i.Name)?.FirstAndLater)).Where(x => x.Split is not null).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine().AppendLine($"## {GoalsTable.System}: first run of a snapshot against later runs").AppendLine();
        md.AppendLine("Rep 1 runs with no startup profile of the image's snapshot on the server and records one; the later reps replay it");
        md.AppendLine($"(the node cache is emptied before every pull either way). Ratios are against {BenchSummary.Baseline}'s median run (above 1: slower than {BenchSummary.Baseline}).").AppendLine();
        md.AppendLine($"| image | first run s | later runs s | first / {BenchSummary.Baseline} | later / {BenchSummary.Baseline} | fetched MB first | fetched MB later |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (image, split) in rows)
        {
            var baseline = summary.Get(BenchSummary.Baseline, image.Name)?.Run;
            md.AppendLine(Invariant(
                $"| {image.Name} | {S(split!.FirstRun)} | {S(split.LaterRun)} | {X(split.FirstRun / baseline)} | {X(split.LaterRun / baseline)} | {Mb(split.FirstFetched)} | {Mb(split.LaterFetched)} |"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string S(double? seconds) => seconds is { } s ? s.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    private static string X(double? ratio) => ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "—";

    private static string P(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "—";

    private static string Mb(long? bytes) => bytes is { } b ? (b / 1e6).ToString("0.0", CultureInfo.InvariantCulture) : "—";

    private static string Gib(long? bytes) => bytes is { } b ? (b / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) : "?";
}
