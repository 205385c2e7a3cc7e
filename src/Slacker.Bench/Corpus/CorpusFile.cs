using System.Text.Json;
using System.Text.RegularExpressions;

namespace Slacker.Bench.Corpus;

/// <summary>A parsed and validated corpus file. Relative paths in it are relative to the file's directory.</summary>
public sealed partial class CorpusFile
{
    private CorpusFile(string source, string suite, IReadOnlyList<CorpusEntry> entries)
    {
        Source = source;
        Suite = suite;
        Entries = entries;
    }

    /// <summary>Where the corpus was read from (a path, or a description of the embedded copy).</summary>
    public string Source { get; }

    public string Suite { get; }

    public IReadOnlyList<CorpusEntry> Entries { get; }

    public CorpusEntry this[string name] =>
        Entries.FirstOrDefault(e => e.Name == name)
        ?? throw new CorpusException($"corpus {Source}: no image named '{name}'; it has {string.Join(", ", Entries.Select(e => e.Name))}.");

    public static CorpusFile Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new CorpusException($"corpus file {full} does not exist; pass --corpus with the path of a corpus.json.");
        }

        return Parse(File.ReadAllText(full), Path.GetDirectoryName(full)!, full);
    }

    public static CorpusFile Parse(string json, string baseDirectory, string source)
    {
        CorpusDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, CorpusJsonContext.Default.CorpusDocument);
        }
        catch (JsonException ex)
        {
            throw new CorpusException($"corpus {source}: {ex.Message} (at {ex.Path ?? "?"}, line {ex.LineNumber + 1}).", ex);
        }

        if (document is null)
        {
            throw new CorpusException($"corpus {source}: the file is empty or 'null'; it must be an object with 'schema', 'suite' and 'images'.");
        }

        if (document.Schema != 1)
        {
            throw new CorpusException($"corpus {source}: field 'schema' must be 1, got {document.Schema?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}.");
        }

        var suite = document.Suite;
        if (string.IsNullOrWhiteSpace(suite) || !DebianNamePattern().IsMatch(suite))
        {
            throw new CorpusException($"corpus {source}: field 'suite' must name a Debian suite such as 'bookworm', got '{suite}'.");
        }

        if (document.Images is null || document.Images.Count == 0)
        {
            throw new CorpusException($"corpus {source}: field 'images' must list at least one image.");
        }

        var entries = new List<CorpusEntry>();
        for (var i = 0; i < document.Images.Count; i++)
        {
            var raw = document.Images[i];
            var where = $"corpus {source}: images[{i}]";
            if (raw is null)
            {
                throw new CorpusException($"{where} is null; each image must be an object.");
            }

            var entry = new CorpusEntryValidator(where, baseDirectory, suite).Validate(raw);
            if (entries.Any(e => e.Name == entry.Name))
            {
                throw new CorpusException($"{where} ({entry.Name}): field 'name' repeats '{entry.Name}'; image names must be unique.");
            }

            entries.Add(entry);
        }

        return new CorpusFile(source, suite, entries);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]*$")]
    internal static partial Regex DebianNamePattern();
}
