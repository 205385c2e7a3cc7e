using System.CommandLine;
using Slacker.Server;

namespace Slacker.Cli.Commands;

/// <summary>`slacker server`: the block store (and later the registry) on Kestrel.</summary>
public static class ServerCommand
{
    public static Command Create()
    {
        var stores = new StoreOptions(ServerOptions.DefaultDataDirectory, "Data directory (metadata.db, registry.db, chunks/, pages/; with --metadata and --chunks only a spool for uploads).");
        var listen = new Option<string>("--listen") { Description = "host:port to serve on; loopback only unless you give another address (e.g. 0.0.0.0:7070).", DefaultValueFactory = _ => ServerOptions.DefaultListen };
        var grace = new Option<TimeSpan>("--gc-grace")
        {
            Description = "gc never deletes chunks or pages touched this recently (e.g. 10m, 30s, 0).",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(10),
            CustomParser = result => DurationParser.TryParse(result.Tokens[0].Value, out var value)
                ? value
                : Fail(result, $"--gc-grace '{result.Tokens[0].Value}' is not a duration: write e.g. 10m, 30s or 0."),
        };

        var command = new Command("server", "Run the Slacker storage server (block-store API and OCI registry).") { listen, grace };
        stores.AddTo(command);
        command.SetAction((parse, ct) => CliGlobals.RunAsync(async () =>
        {
            var options = new ServerOptions { Stores = stores.Read(parse), Listen = parse.GetValue(listen)!, GcGrace = parse.GetValue(grace) };
            await using var host = await SlackerServerHost.StartAsync(options, ct: ct);
            Console.WriteLine($"slacker server: serving {host.Address} with {host.Stores.Locations.Describe()} (gc grace {options.GcGrace})");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("slacker server: shutting down");
            }

            return 0;
        }));
        return command;
    }

    private static TimeSpan Fail(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return default;
    }
}
