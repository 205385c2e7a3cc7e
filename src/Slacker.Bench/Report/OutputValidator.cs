using System.Xml.Linq;
using Slacker.Bench.Runner;

namespace Slacker.Bench.Report;

/// <summary>The --smoke check: is a bench output directory complete and well formed? Returns the problems found.</summary>
public static class OutputValidator
{
    private static readonly string[] Ops = ["push", "pull", "run"];

    public static List<string> Validate(string outputDirectory)
    {
        var problems = new List<string>();
        var resultsPath = Path.Combine(outputDirectory, ReportWriter.ResultsFile);
        if (!File.Exists(resultsPath))
        {
            return [$"{resultsPath} is missing."];
        }

        List<BenchRecord> records;
        try
        {
            records = RecordLog.Read(resultsPath);
        }
        catch (InvalidDataException ex)
        {
            return [ex.Message];
        }

        var run = records.Where(r => r.Kind == "run").ToList();
        if (run.Count != 1)
        {
            problems.Add($"{resultsPath} has {run.Count} 'run' records; it must have exactly one.");
        }

        var reps = run.FirstOrDefault()?.Reps ?? 1;
        var images = records.Where(r => r.Kind == "image").Select(r => r.Image!).ToList();
        if (images.Count == 0)
        {
            problems.Add($"{resultsPath} has no 'image' records: no image was built.");
        }

        var okSystems = records.Where(r => r.Kind == "system" && r.Status == "ok").Select(r => r.System!).ToList();
        if (okSystems.Count == 0)
        {
            problems.Add($"{resultsPath} has no system with status ok: nothing was measured.");
        }

        foreach (var failure in records.Where(r => r.Kind == "failure"))
        {
            problems.Add($"failure: {failure.System} / {failure.Image} rep {failure.Rep} {failure.Op}: {(failure.Message ?? string.Empty).Split('\n')[0]}");
        }

        foreach (var system in okSystems)
        {
            foreach (var image in images)
            {
                for (var rep = 1; rep <= reps; rep++)
                {
                    foreach (var op in Ops)
                    {
                        var measure = records.FirstOrDefault(r => r.Kind == "measure" && r.System == system && r.Image == image && r.Rep == rep && r.Op == op);
                        if (measure?.Seconds is not { } seconds || !double.IsFinite(seconds) || seconds <= 0)
                        {
                            problems.Add($"{system} / {image} rep {rep}: no valid '{op}' measurement.");
                        }
                        else if (system == GoalsTable.System && op == "run" && (measure.BytesFetched is not > 0 || measure.BytesRead is not > 0))
                        {
                            problems.Add($"{system} / {image} rep {rep}: the run has no bytes fetched and read (fetched {measure.BytesFetched}, read {measure.BytesRead}).");
                        }
                    }
                }
            }
        }

        var markdown = Path.Combine(outputDirectory, ReportWriter.MarkdownFile);
        if (!File.Exists(markdown))
        {
            problems.Add($"{markdown} is missing.");
        }
        else
        {
            var text = File.ReadAllText(markdown);
            foreach (var system in okSystems)
            {
                foreach (var image in images)
                {
                    if (!text.Contains($"| {image} |", StringComparison.Ordinal) || !text.Contains($"| {system} |", StringComparison.Ordinal))
                    {
                        problems.Add($"{markdown} has no row for {image} / {system}.");
                    }
                }
            }
        }

        foreach (var chart in new[] { ReportWriter.TimesChart, ReportWriter.SpeedupChart })
        {
            var path = Path.Combine(outputDirectory, chart);
            try
            {
                var root = XDocument.Load(path).Root;
                if (root?.Name.LocalName != "svg")
                {
                    problems.Add($"{path} is not an SVG document.");
                }
            }
            catch (Exception ex) when (ex is IOException or System.Xml.XmlException)
            {
                problems.Add($"{path} is missing or not well-formed XML: {ex.Message}");
            }
        }

        return problems;
    }
}
