using System.CommandLine;
using Slacker.Core.Api;

namespace Slacker.Cli.Commands;

/// <summary>`slacker gc`: asks the server for one mark-and-sweep pass.</summary>
public static class GcCommand
{
    public static Command Create()
    {
        var command = new Command("gc", "Delete chunks, pages and released snapshots that nothing references (on the server).");
        command.SetAction((parse, ct) => CliGlobals.RunAsync(async () =>
        {
            using var http = CliGlobals.CreateHttpClient(parse);
            var report = await new BlockStoreClient(http).GcAsync(ct);
            Console.WriteLine($"gc: scanned {report.ChunksScanned} chunks; deleted {report.ChunksDeleted} chunks, {report.PagesDeleted} pages, "
                + $"{report.SnapshotsDeleted} snapshots ({report.BytesDeleted / (1024.0 * 1024):0.0} MiB) in {report.Seconds:0.00} s");
            return 0;
        }));
        return command;
    }
}
