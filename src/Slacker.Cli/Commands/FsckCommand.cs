using System.CommandLine;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Server;
using Slacker.Server.Storage;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker fsck --data DIR`: checks a data directory directly (no server needed, and safe beside a running
/// one: it opens SQLite read-only, and WAL lets it read a consistent view while the server writes).
/// </summary>
public static class FsckCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The server's data directory.", DefaultValueFactory = _ => ServerOptions.DefaultDataDirectory };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("fsck", "Check that every snapshot and volume reaches only pages and chunks that exist and match their digests.") { data, json };
        command.SetAction((parse, ct) => CliGlobals.RunAsync(async () =>
        {
            await using var stores = await ServerStores.OpenAsync(parse.GetValue(data)!, readOnly: true, ct);
            var report = await stores.CreateChecker().CheckAsync(ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, CoreJsonContext.Default.FsckReport));
            }
            else
            {
                foreach (var problem in report.Problems)
                {
                    Console.WriteLine($"PROBLEM {problem.Kind} {problem.Subject}: {problem.Detail}");
                }

                Console.WriteLine($"fsck {stores.DataDirectory}: {report.SnapshotsChecked} snapshots, {report.VolumesChecked} volumes, {report.ChunksChecked} chunks checked: "
                    + (report.IsClean ? "clean" : $"{report.Problems.Count} problem(s)"));
            }

            return report.IsClean ? 0 : 1;
        }));
        return command;
    }
}
