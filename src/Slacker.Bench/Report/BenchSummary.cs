using Slacker.Bench.Runner;

namespace Slacker.Bench.Report;

/// <summary>Medians over reps of one system on one image. Sums are per rep first (same rep's pull + run), then the median.</summary>
public sealed record CycleMedians(double? Push, double? Pull, double? Run, double? Deployment, double? Development, int Reps, long? BytesFetched, long? BytesRead, long? VolumeBytes)
{
    /// <summary>Median over reps of fetched / read (each rep's own ratio).</summary>
    public double? FetchedPerRead { get; init; }

    /// <summary>
    /// Run of the first rep against the median run of the later ones. They differ for slacker: the first container
    /// of a snapshot records its startup profile, later ones (on a node whose cache was emptied) replay it.
    /// </summary>
    public RepSplit? FirstAndLater { get; init; }
}

/// <summary>The first rep's run and bytes fetched, and the medians of the reps after it (null with one rep).</summary>
public sealed record RepSplit(double? FirstRun, long? FirstFetched, double? LaterRun, long? LaterFetched);

public sealed record ImageFacts(string Name, string? Category, string? Mode, long? CompressedBytes, long? UncompressedBytes, int? Layers);

public sealed record SystemFacts(string Name, string Status, string? Version, string? Message);

/// <summary>Long-running parity of one system on one image (throughput: the median over its measured runs).</summary>
public sealed record ParityFacts(string System, string Image, double? FirstAnswerSeconds, double? Throughput, string? Unit);

/// <summary>What the report says, computed only from the measurements of one results file (one run).</summary>
public sealed class BenchSummary
{
    public const string Baseline = "docker";

    private readonly Dictionary<(string System, string Image), CycleMedians> _medians;
    private readonly Dictionary<(string System, string Op), List<double>> _all;

    private BenchSummary(BenchRecord? run, List<SystemFacts> systems, List<ImageFacts> images, Dictionary<(string, string), CycleMedians> medians, List<BenchRecord> failures, List<ParityFacts> parity, Dictionary<(string, string), List<double>> all)
    {
        _all = all;
        Parity = parity;
        Run = run;
        Systems = systems;
        Images = images;
        _medians = medians;
        Failures = failures;
    }

    public BenchRecord? Run { get; }

    public IReadOnlyList<SystemFacts> Systems { get; }

    public IReadOnlyList<ImageFacts> Images { get; }

    public IReadOnlyList<BenchRecord> Failures { get; }

    public IReadOnlyList<ParityFacts> Parity { get; }

    /// <summary>Systems that produced at least one measurement, in the order they were listed.</summary>
    public IReadOnlyList<string> MeasuredSystems => Systems.Select(s => s.Name).Where(s => Images.Any(i => _medians.ContainsKey((s, i.Name)))).ToList();

    public CycleMedians? Get(string system, string image) => _medians.GetValueOrDefault((system, image));

    /// <summary>baseline median / system median for one metric (above 1 means faster than the baseline).</summary>
    public double? Speedup(string system, string image, Func<CycleMedians, double?> metric)
    {
        if (Get(Baseline, image) is not { } baseline || Get(system, image) is not { } other)
        {
            return null;
        }

        return metric(baseline) is { } b && metric(other) is { } o && o > 0 ? b / o : null;
    }

    public static BenchSummary From(IReadOnlyList<BenchRecord> records)
    {
        var run = records.FirstOrDefault(r => r.Kind == "run");
        var systems = records.Where(r => r.Kind == "system")
            .Select(r => new SystemFacts(r.System ?? "?", r.Status ?? "?", r.Version, r.Message)).ToList();
        var images = records.Where(r => r.Kind == "image")
            .Select(r => new ImageFacts(r.Image ?? "?", r.Category, r.Mode, r.CompressedBytes, r.UncompressedBytes, r.Layers)).ToList();
        foreach (var name in records.Where(r => r.Kind == "measure" && r.Image is not null).Select(r => r.Image!).Distinct())
        {
            if (images.All(i => i.Name != name))
            {
                images.Add(new ImageFacts(name, null, null, null, null, null));
            }
        }

        foreach (var name in records.Where(r => r.Kind == "measure" && r.System is not null).Select(r => r.System!).Distinct())
        {
            if (systems.All(s => s.Name != name))
            {
                systems.Add(new SystemFacts(name, "ok", null, null));
            }
        }

        var medians = new Dictionary<(string, string), CycleMedians>();
        foreach (var group in records.Where(r => r.Kind == "measure" && r.System is not null && r.Image is not null && r.Seconds is not null)
                     .GroupBy(r => (r.System!, r.Image!)))
        {
            var reps = group.GroupBy(r => r.Rep ?? 0).OrderBy(rep => rep.Key).Select(rep => new
            {
                Push = rep.FirstOrDefault(r => r.Op == "push")?.Seconds,
                Pull = rep.FirstOrDefault(r => r.Op == "pull")?.Seconds,
                Run = rep.FirstOrDefault(r => r.Op == "run")?.Seconds,
                Fetched = rep.FirstOrDefault(r => r.Op == "run")?.BytesFetched,
                Read = rep.FirstOrDefault(r => r.Op == "run")?.BytesRead,
                Volume = rep.FirstOrDefault(r => r.Op == "run")?.SystemImageBytes,
            }).ToList();
            medians[group.Key] = new CycleMedians(
                Median(reps.Select(r => r.Push)),
                Median(reps.Select(r => r.Pull)),
                Median(reps.Select(r => r.Run)),
                Median(reps.Select(r => r.Pull + r.Run)),
                Median(reps.Select(r => r.Push + r.Pull + r.Run)),
                reps.Count,
                Median(reps.Select(r => (double?)r.Fetched)) is { } f ? (long)f : null,
                Median(reps.Select(r => (double?)r.Read)) is { } read ? (long)read : null,
                Median(reps.Select(r => (double?)r.Volume)) is { } volume ? (long)volume : null)
            {
                FetchedPerRead = Median(reps.Select(r => r.Fetched is { } f && r.Read is > 0 ? (double)f / r.Read.Value : (double?)null)),
                FirstAndLater = reps.Count < 2 ? null : new RepSplit(
                    reps[0].Run,
                    reps[0].Fetched,
                    Median(reps.Skip(1).Select(r => r.Run)),
                    Median(reps.Skip(1).Select(r => (double?)r.Fetched)) is { } later ? (long)later : null),
            };
        }

        var parity = records.Where(r => r.Kind == "parity" && r.System is not null && r.Image is not null)
            .GroupBy(r => (r.System!, r.Image!))
            .Select(g => new ParityFacts(
                g.Key.Item1,
                g.Key.Item2,
                g.FirstOrDefault(r => r.Op == "first-answer")?.Seconds,
                Median(g.Where(r => r.Op == "throughput").Select(r => r.Value)),
                g.FirstOrDefault(r => r.Op == "throughput")?.Unit))
            .ToList();
        var all = records.Where(r => r.Kind == "measure" && r.System is not null && r.Op is not null && r.Seconds is not null)
            .GroupBy(r => (r.System!, r.Op!))
            .ToDictionary(g => g.Key, g => g.Select(r => r.Seconds!.Value).ToList());
        return new BenchSummary(run, systems, images, medians, records.Where(r => r.Kind == "failure").ToList(), parity, all);
    }

    /// <summary>Every measurement of one operation of one system, over all images and reps (for percentiles).</summary>
    public IReadOnlyList<double> AllSeconds(string system, string op) => _all.TryGetValue((system, op), out var values) ? values : [];

    /// <summary>The nearest-rank percentile (p in 0..100) of <paramref name="values"/>.</summary>
    public static double? Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.Where(v => v is not null && double.IsFinite(v.Value)).Select(v => v!.Value).Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
