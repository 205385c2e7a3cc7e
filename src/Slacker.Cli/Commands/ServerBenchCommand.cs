using System.CommandLine;
using Slacker.Cli.Perf;

namespace Slacker.Cli.Commands;

/// <summary>`slacker server-bench` (hidden): the measurements of docs/perf/server.md.</summary>
public static class ServerBenchCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Scratch data directory (default: a new temp dir, deleted afterwards)." };
        var runs = new Option<int>("--runs") { Description = "Runs per figure (the median is reported).", DefaultValueFactory = _ => 5 };
        var megabytes = new Option<int>("--upload-mb") { Description = "MiB uploaded and downloaded per throughput run.", DefaultValueFactory = _ => 256 };
        var command = new Command("server-bench", "Measure snapshot/clone time against volume size and chunk throughput over loopback.")
        {
            data, runs, megabytes,
        };
        command.Hidden = true;
        command.SetAction((parse, ct) => CliGlobals.RunAsync(async () =>
        {
            var directory = parse.GetValue(data);
            var scratch = directory is null ? Directory.CreateTempSubdirectory("slacker-server-bench-").FullName : null;
            try
            {
                await new ServerBenchmark(Console.Out, parse.GetValue(runs)).RunAsync(directory ?? scratch!, parse.GetValue(megabytes) * 1024L * 1024, ct);
                return 0;
            }
            finally
            {
                if (scratch is not null)
                {
                    Directory.Delete(scratch, recursive: true);
                }
            }
        }));
        return command;
    }
}
