using Slacker.Bench.Runner;

namespace Slacker.Bench.Report;

/// <summary>Turns a results.jsonl into report.md, times.svg and speedups.svg in the same directory.</summary>
public static class ReportWriter
{
    public const string ResultsFile = "results.jsonl";
    public const string MarkdownFile = "report.md";
    public const string TimesChart = "times.svg";
    public const string SpeedupChart = "speedups.svg";

    public static BenchSummary Write(string resultsPath, string outputDirectory)
    {
        var summary = BenchSummary.From(RecordLog.Read(resultsPath));
        Directory.CreateDirectory(outputDirectory);
        File.WriteAllText(Path.Combine(outputDirectory, MarkdownFile), MarkdownReport.Render(summary));
        File.WriteAllText(Path.Combine(outputDirectory, TimesChart), SvgCharts.Times(summary));
        File.WriteAllText(Path.Combine(outputDirectory, SpeedupChart), SvgCharts.SpeedupCdf(summary));
        return summary;
    }
}
