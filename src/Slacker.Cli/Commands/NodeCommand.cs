using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Slacker.Node.Agent;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker node`: runs the per-host agent (chunk cache, lazy volumes, containers) on a unix socket.
/// `slacker node prune-cache` asks a running agent to empty its chunk cache.
/// </summary>
public static class NodeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The node's data directory.", DefaultValueFactory = _ => NodeAgentOptions.DefaultDataDir };
        var socket = new Option<string>("--socket") { Description = "Unix socket to serve the CLI on.", DefaultValueFactory = _ => NodeAgentOptions.DefaultSocket };
        var runtime = new Option<string>("--runtime") { Description = "OCI runtime: crun (default) or runc, or a path.", DefaultValueFactory = _ => "crun" };
        var cache = new Option<long>("--cache-size") { Description = "Chunk cache capacity in MiB.", DefaultValueFactory = _ => 16L * 1024 };
        var command = new Command("node", "Run the node agent: lazy volumes, chunk cache and containers (as root).") { data, socket, runtime, cache };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            var options = new NodeAgentOptions
            {
                DataDir = parse.GetValue(data)!,
                SocketPath = parse.GetValue(socket)!,
                ServerUrl = parse.GetValue(CliGlobals.Server)!,
                Runtime = parse.GetValue(runtime)!,
                CacheCapacityBytes = Math.Max(1, parse.GetValue(cache)) * 1024 * 1024,
            };
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }).SetMinimumLevel(LogLevel.Information));
            try
            {
                await using var agent = await NodeAgent.OpenAsync(options, loggers, images: null, ct);
                await agent.ServeAsync(loggers, ct);
            }
            catch (NodeAgentException e)
            {
                await Console.Error.WriteLineAsync($"slacker node: {e.Message}");
                return 1;
            }

            return 0;
        }));

        var prune = new Command("prune-cache", "Empty the node's chunk cache (refused while containers are running).") { NodeClient.SocketOption };
        prune.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            var result = await node.PostAsync("v1/cache/prune", AgentJsonContext.Default.PruneCacheResponse, ct);
            Console.WriteLine($"removed {result.EntriesRemoved} cached chunks ({Bytes.Format(result.BytesRemoved)})");
            return 0;
        }));
        command.Subcommands.Add(prune);

        var info = new Command("info", "Show the node's settings and cache figures as JSON.") { NodeClient.SocketOption };
        info.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            Console.WriteLine(JsonSerializer.Serialize(await node.GetAsync("v1/info", AgentJsonContext.Default.NodeInfo, ct), AgentJsonContext.Default.NodeInfo));
            return 0;
        }));
        command.Subcommands.Add(info);
        return command;
    }
}
