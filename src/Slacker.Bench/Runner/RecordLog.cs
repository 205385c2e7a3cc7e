using System.Text.Json;

namespace Slacker.Bench.Runner;

/// <summary>results.jsonl: one JSON object per line, flushed as it is written so a killed run keeps what it measured.</summary>
public sealed class RecordLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly List<BenchRecord> _records = [];

    public RecordLog(string path)
    {
        Path = path;
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public string Path { get; }

    public IReadOnlyList<BenchRecord> Records => _records;

    public void Write(BenchRecord record)
    {
        _records.Add(record);
        _writer.WriteLine(JsonSerializer.Serialize(record, BenchJsonContext.Default.BenchRecord));
    }

    public static List<BenchRecord> Read(string path)
    {
        var records = new List<BenchRecord>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                records.Add(JsonSerializer.Deserialize(line, BenchJsonContext.Default.BenchRecord)
                    ?? throw new InvalidDataException($"{path}:{lineNumber}: 'null' is not a record."));
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a bench record: {ex.Message}", ex);
            }
        }

        return records;
    }

    public void Dispose() => _writer.Dispose();
}
