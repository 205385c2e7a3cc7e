using System.CommandLine;
using System.Text.Json;
using Slacker.Node.Agent;

namespace Slacker.Cli.Commands;

/// <summary>`slacker stats CONTAINER`: how much of the image the container read lazily, and what the cache served.</summary>
public static class StatsCommand
{
    public static Command Create()
    {
        var container = new Argument<string>("container") { Description = "Container name or id." };
        var format = FormatOption.Create();
        var command = new Command("stats", "Show a container's lazy-fetch figures: bytes fetched vs image size, cache hits.") { format, NodeClient.SocketOption, container };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            var stats = await node.GetAsync($"v1/containers/{Uri.EscapeDataString(parse.GetValue(container)!)}/stats", AgentJsonContext.Default.ContainerStats, ct);
            if (FormatOption.IsJson(parse, format))
            {
                Console.WriteLine(JsonSerializer.Serialize(stats, AgentJsonContext.Default.ContainerStats));
                return 0;
            }

            var v = stats.VolumeStats;
            var fetched = v?.BytesFetched ?? 0;
            var share = stats.ImageBytes > 0 ? 100.0 * fetched / stats.ImageBytes : 0;
            Table.Print(
                ["CONTAINER", "IMAGE", "IMAGE SIZE", "FETCHED", "FETCHED %", "CHUNKS FETCHED", "CACHE HITS", "CACHE MISSES", "WRITTEN", "STATE"],
                [[
                    stats.Name, stats.Image, Bytes.Format(stats.ImageBytes), Bytes.Format(fetched), $"{share:0.00}%",
                    (v?.ChunksFetched ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    (v?.CacheHits ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    (v?.CacheMisses ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Bytes.Format(v?.BytesWritten ?? 0), stats.Live ? "attached" : "detached (last figures)",
                ]]);
            return 0;
        }));
        return command;
    }
}
