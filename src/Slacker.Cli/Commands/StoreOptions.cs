using System.CommandLine;
using System.Text.Json;
using Slacker.Core.Storage;
using Slacker.Server.Storage;
using Slacker.Server.Storage.S3;

namespace Slacker.Cli.Commands;

/// <summary>
/// --data, --metadata, --chunks and --config, shared by `slacker server` and `slacker fsck` so that fsck reads
/// exactly the stores a server writes. Precedence: flag, then environment (SLACKER_METADATA, SLACKER_CHUNKS),
/// then the config file.
/// </summary>
public sealed class StoreOptions
{
    private readonly Option<string> _data;
    private readonly Option<string?> _metadata = new("--metadata")
    {
        Description = "Metadata database: postgres://USER@HOST:PORT/DB for a cluster (password from PGPASSWORD or ~/.pgpass). Default: SQLite in --data.",
    };

    private readonly Option<string?> _chunks = new("--chunks")
    {
        Description = "Chunk store: s3://BUCKET?endpoint=http://HOST:PORT for a cluster (keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY). Default: files in --data.",
    };

    private readonly Option<FileInfo?> _config = new("--config")
    {
        Description = "JSON file with \"metadata\", \"chunks\", \"s3AccessKey\", \"s3SecretKey\" (flags and environment win).",
    };

    public StoreOptions(string defaultData, string dataDescription)
    {
        _data = new Option<string>("--data") { Description = dataDescription, DefaultValueFactory = _ => defaultData };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_data);
        command.Options.Add(_metadata);
        command.Options.Add(_chunks);
        command.Options.Add(_config);
    }

    public StoreLocations Read(ParseResult parse)
    {
        var file = parse.GetValue(_config) is { } path ? ReadConfig(path) : new StoreConfig();
        var credentials = file.S3AccessKey is { Length: > 0 } access && file.S3SecretKey is { Length: > 0 } secret
            ? new S3Credentials(access, secret)
            : null;
        return new StoreLocations(parse.GetValue(_data)!)
        {
            Metadata = Pick(parse.GetValue(_metadata), "SLACKER_METADATA", file.Metadata),
            Chunks = Pick(parse.GetValue(_chunks), "SLACKER_CHUNKS", file.Chunks),
            S3Credentials = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } ? null : credentials,
        };
    }

    private static string? Pick(string? flag, string variable, string? file) =>
        flag is { Length: > 0 } ? flag : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment ? fromEnvironment : file;

    private static StoreConfig ReadConfig(FileInfo path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path.FullName), StoreConfigJson.Default.StoreConfig)
                ?? throw new ArgumentException($"--config {path.FullName} is empty: write a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--config {path.FullName} is not valid JSON ({e.Message}): write e.g. {{\"metadata\": \"postgres://...\", \"chunks\": \"s3://...\"}}.", e);
        }
        catch (IOException e)
        {
            throw new ArgumentException($"--config {path.FullName} cannot be read: {e.Message}", e);
        }
    }
}
