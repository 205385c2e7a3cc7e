using System.Globalization;
using System.Security;
using System.Text;

namespace Slacker.Bench.Report;

/// <summary>Hand-written SVG: no chart library, so the files are small, diffable and render in any browser.</summary>
public static class SvgCharts
{
    private static readonly (string Op, string Colour)[] Ops = [("push", "#4e79a7"), ("pull", "#f28e2b"), ("run", "#59a14f")];
    private static readonly string[] SeriesColours = ["#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];

    /// <summary>Per image, one stacked bar per system: push, pull and run medians (seconds).</summary>
    public static string Times(BenchSummary summary)
    {
        var systems = summary.MeasuredSystems;
        var images = summary.Images.Where(i => systems.Any(s => summary.Get(s, i.Name) is not null)).ToList();
        const int barWidth = 22, barGap = 4, groupGap = 26, left = 60, top = 50, plotHeight = 300, bottom = 110;
        var groupWidth = Math.Max(1, systems.Count) * (barWidth + barGap) - barGap;
        // Wide enough for the title and legend even with one or two images.
        var width = Math.Max(720, left + 20 + (Math.Max(1, images.Count) * (groupWidth + groupGap)));
        var height = top + plotHeight + bottom;
        var max = images.SelectMany(i => systems.Select(s => summary.Get(s, i.Name))).Where(m => m is not null)
            .Select(m => (m!.Push ?? 0) + (m.Pull ?? 0) + (m.Run ?? 0)).DefaultIfEmpty(0).Max();
        var scaleMax = NiceCeiling(max);

        var svg = Begin(width, height, "HelloBench: median push, pull and run seconds per image and system");
        Text(svg, left, 20, "Median seconds per image: push, pull, run stacked (one bar per system)", 14, "start", bold: true);
        var legendX = left;
        foreach (var (op, colour) in Ops)
        {
            svg.Append(Invariant($"<rect x=\"{legendX}\" y=\"30\" width=\"12\" height=\"12\" fill=\"{colour}\"/>"));
            Text(svg, legendX + 16, 40, op, 12, "start");
            legendX += 70;
        }

        Text(svg, legendX + 10, 40, "bar labels: " + string.Join(", ", systems.Select(s => $"{s[0]} = {s}")), 12, "start");
        YAxis(svg, left, top, plotHeight, width - 10, scaleMax, "s");

        var x = left + 10;
        foreach (var image in images)
        {
            var barX = x;
            foreach (var system in systems)
            {
                if (summary.Get(system, image.Name) is { } m)
                {
                    double y = top + plotHeight;
                    foreach (var (op, colour) in Ops)
                    {
                        var value = op switch { "push" => m.Push, "pull" => m.Pull, _ => m.Run } ?? 0;
                        var h = scaleMax > 0 ? value / scaleMax * plotHeight : 0;
                        y -= h;
                        svg.Append(Invariant($"<rect x=\"{barX}\" y=\"{y:0.##}\" width=\"{barWidth}\" height=\"{h:0.##}\" fill=\"{colour}\"><title>{Escape(image.Name)} {Escape(system)} {op}: {value:0.000} s</title></rect>"));
                    }
                }

                Text(svg, barX + (barWidth / 2.0), top + plotHeight + 14, system[..1], 11, "middle");
                barX += barWidth + barGap;
            }

            var labelX = x + (groupWidth / 2.0);
            svg.Append(Invariant($"<text x=\"{labelX:0.##}\" y=\"{top + plotHeight + 30}\" font-size=\"12\" text-anchor=\"end\" transform=\"rotate(-40 {labelX:0.##} {top + plotHeight + 30})\">{Escape(image.Name)}</text>"));
            x += groupWidth + groupGap;
        }

        return End(svg);
    }

    /// <summary>CDF over images of each system's deployment and development speedup against docker (log2 x axis).</summary>
    public static string SpeedupCdf(BenchSummary summary)
    {
        // The legend sits in two columns between the title and the plot, where no curve can run through it.
        const int width = 760, height = 436, left = 60, right = 20, top = 86, bottom = 60;
        var plotWidth = width - left - right;
        var plotHeight = height - top - bottom;
        var svg = Begin(width, height, $"HelloBench: CDF of per-image speedups against {BenchSummary.Baseline}");
        Text(svg, left, 20, $"CDF of per-image speedup against {BenchSummary.Baseline} ({BenchSummary.Baseline} median / system median)", 14, "start", bold: true);

        var series = new List<(string Label, List<double> Values)>();
        foreach (var system in summary.MeasuredSystems.Where(s => s != BenchSummary.Baseline))
        {
            foreach (var (metric, select) in new (string, Func<CycleMedians, double?>)[] { ("deployment", m => m.Deployment), ("development", m => m.Development) })
            {
                var values = summary.Images.Select(i => summary.Speedup(system, i.Name, select)).Where(v => v is > 0).Select(v => v!.Value).Order().ToList();
                if (values.Count > 0)
                {
                    series.Add(($"{system} {metric}", values));
                }
            }
        }

        if (series.Count == 0)
        {
            Text(svg, width / 2.0, height / 2.0, $"no speedups: no system besides {BenchSummary.Baseline} has measurements on the same images", 13, "middle");
            return End(svg);
        }

        var all = series.SelectMany(s => s.Values).ToList();
        var lo = Math.Floor(Math.Log2(Math.Min(all.Min(), 1)));
        var hi = Math.Ceiling(Math.Log2(Math.Max(all.Max(), 1)));
        if (hi - lo < 1)
        {
            hi = lo + 1;
        }

        double X(double v) => left + ((Math.Log2(v) - lo) / (hi - lo) * plotWidth);
        double Y(double f) => top + plotHeight - (f * plotHeight);

        for (var e = lo; e <= hi; e++)
        {
            var gx = X(Math.Pow(2, e));
            svg.Append(Invariant($"<line x1=\"{gx:0.##}\" y1=\"{top}\" x2=\"{gx:0.##}\" y2=\"{top + plotHeight}\" stroke=\"{(e == 0 ? "#888" : "#ddd")}\"/>"));
            Text(svg, gx, top + plotHeight + 16, Math.Pow(2, e).ToString("0.###", CultureInfo.InvariantCulture) + "x", 11, "middle");
        }

        for (var f = 0; f <= 4; f++)
        {
            var gy = Y(f / 4.0);
            svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{gy:0.##}\" x2=\"{left + plotWidth}\" y2=\"{gy:0.##}\" stroke=\"#eee\"/>"));
            Text(svg, left - 6, gy + 4, (f * 25).ToString(CultureInfo.InvariantCulture) + "%", 11, "end");
        }

        Text(svg, left + (plotWidth / 2.0), height - 20, "speedup (log scale)", 12, "middle");
        svg.Append(Invariant($"<text x=\"18\" y=\"{top + (plotHeight / 2.0):0.##}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 18 {top + (plotHeight / 2.0):0.##})\">share of images</text>"));

        for (var s = 0; s < series.Count; s++)
        {
            var (label, values) = series[s];
            var colour = SeriesColours[s % SeriesColours.Length];
            var points = new StringBuilder();
            points.Append(Invariant($"{X(values[0]):0.##},{Y(0):0.##}"));
            for (var i = 0; i < values.Count; i++)
            {
                var x = X(values[i]);
                points.Append(Invariant($" {x:0.##},{Y((double)i / values.Count):0.##} {x:0.##},{Y((double)(i + 1) / values.Count):0.##}"));
            }

            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{points}\"><title>{Escape(label)}</title></polyline>"));
            var legendX = left + (s % 2 * 330);
            var legendY = 36 + (s / 2 * 16);
            svg.Append(Invariant($"<rect x=\"{legendX}\" y=\"{legendY}\" width=\"12\" height=\"3\" fill=\"{colour}\"/>"));
            Text(svg, legendX + 18, legendY + 5, $"{label} (median {BenchSummary.Median(values.Select(v => (double?)v)):0.00}x)", 11, "start");
        }

        return End(svg);
    }

    private static void YAxis(StringBuilder svg, int left, int top, int plotHeight, int right, double scaleMax, string unit)
    {
        for (var i = 0; i <= 5; i++)
        {
            var value = scaleMax * i / 5;
            var y = top + plotHeight - (plotHeight * i / 5.0);
            svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{y:0.##}\" x2=\"{right}\" y2=\"{y:0.##}\" stroke=\"#eee\"/>"));
            Text(svg, left - 6, y + 4, value.ToString("0.##", CultureInfo.InvariantCulture) + " " + unit, 11, "end");
        }
    }

    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static StringBuilder Begin(int width, int height, string title)
    {
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">"));
        svg.Append("<title>").Append(Escape(title)).Append("</title>");
        svg.Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>"));
        return svg;
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    private static void Text(StringBuilder svg, double x, double y, string text, int size, string anchor, bool bold = false) =>
        svg.Append(Invariant($"<text x=\"{x:0.##}\" y=\"{y:0.##}\" font-size=\"{size}\" text-anchor=\"{anchor}\"{(bold ? " font-weight=\"bold\"" : string.Empty)}>{Escape(text)}</text>"));

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
