using System.CommandLine;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Server;
using Slacker.Server.Storage;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker fsck --data DIR` (or --metadata/--chunks of a cluster): checks the stores directly (no server needed, and safe beside a running
/// one: it opens SQLite read-only, and WAL lets it read a consistent view while the server writes).
/// </summary>
public static class FsckCommand
{
    public static Command Create()
    {
        var stores = new StoreOptions(ServerOptions.DefaultDataDirectory, "The server's data directory.");
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("fsck", "Check that every snapshot and volume reaches only pages and chunks that exist and match their digests.") { json };
        stores.AddTo(command);
        command.SetAction((parse, ct) => CliGlobals.RunAsync(async () =>
        {
            await using var opened = await ServerStores.OpenAsync(stores.Read(parse), readOnly: true, ct);
            var report = await opened.CreateChecker().CheckAsync(ct);
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

                Console.WriteLine($"fsck {opened.Locations.Describe()}: {report.SnapshotsChecked} snapshots, {report.VolumesChecked} volumes, {report.ChunksChecked} chunks checked: "
                    + (report.IsClean ? "clean" : $"{report.Problems.Count} problem(s)"));
            }

            return report.IsClean ? 0 : 1;
        }));
        return command;
    }
}
