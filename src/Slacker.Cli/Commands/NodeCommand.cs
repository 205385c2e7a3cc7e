using System.CommandLine;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Distribution;
using Slacker.Images.Import;
using Slacker.Images.Oci;
using Slacker.Images.Operations;
using Slacker.Images.Store;
using Slacker.Node.Agent;
using Slacker.Node.Containers;

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
        var profiles = new Option<bool>("--startup-profiles")
        {
            Description = "Record what a container of an image reads first and, on the next start of that image on any node, fetch it ahead in a few large batches (false: fetch only on demand).",
            DefaultValueFactory = _ => true,
        };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log messages shown: Trace, Debug, Information, Warning, Error.", DefaultValueFactory = _ => LogLevel.Information };
        var command = new Command("node", "Run the node agent: lazy volumes, chunk cache and containers (as root).") { data, socket, runtime, cache, profiles, logLevel };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            var options = new NodeAgentOptions
            {
                DataDir = parse.GetValue(data)!,
                SocketPath = parse.GetValue(socket)!,
                ServerUrl = parse.GetValue(CliGlobals.Server)!,
                Runtime = parse.GetValue(runtime)!,
                CacheCapacityBytes = Math.Max(1, parse.GetValue(cache)) * 1024 * 1024,
                StartupProfiles = parse.GetValue(profiles),
            };
            var level = parse.GetValue(logLevel);
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
                .SetMinimumLevel(level)
                // ASP.NET Core logs every request at Information; the node's own lines are what an operator reads.
                .AddFilter("Microsoft", level == LogLevel.Trace ? LogLevel.Trace : LogLevel.Warning)
                .AddFilter("Microsoft.Hosting.Lifetime", level));
            try
            {
                var store = LocalImageStore.Default(Path.GetFullPath(options.DataDir));
                await using var agent = await NodeAgent.OpenAsync(options, loggers,
                    (http, handler) => new StoreImageResolver(new ImageService(http.BaseAddress!, store, handler)), ct);
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

/// <summary>
/// The node's images are the ones in its local image store (DATA/images, the store `slacker pull` fills): run
/// finds an image there, or pulls it (which reads its manifest only) when the node does not have it yet; commit
/// records the new image there, and `slacker push` publishes it.
/// </summary>
public sealed class StoreImageResolver(ImageService images) : IImageResolver
{
    public async Task<Slacker.Node.Agent.ResolvedImage> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        var name = Parse(reference);
        SlackerImage image;
        try
        {
            image = images.Local.Find(name.ToString()) is { } local
                ? images.Local.ReadImage(local)
                : (await images.PullAsync(name, cancellationToken)).Image;
        }
        catch (RegistryException e) when (e.Status == HttpStatusCode.NotFound)
        {
            throw new ContainerException(ContainerErrors.ImageUnknown,
                $"No such image: '{reference}' (not on this node, nor in the registry at {images.Server}). Import it first ('slacker import ...'); 'slacker images' lists them.");
        }
        catch (ImageFormatException e)
        {
            throw new ContainerException(ContainerErrors.ImageUnknown, e.Message, e);
        }
        catch (Exception e) when (e is HttpRequestException or RegistryException or BlockStoreException)
        {
            throw new ContainerException(ContainerErrors.ServerUnreachable,
                $"Cannot reach the Slacker server at {images.Server}: {e.Message}. Start it ('slacker server') or give the node its address (slacker node --server URL).", e);
        }

        return new Slacker.Node.Agent.ResolvedImage(reference, Digest.Compute(image.ManifestBytes).ToString(), image.Layer.Snapshot,
            image.Layer.Size, image.Layer.ChunkSize, ImageRunConfig.Parse(image.ConfigBytes), image.ConfigBytes);
    }

    public async Task<string> RecordCommitAsync(string reference, Slacker.Node.Agent.ResolvedImage parent, string snapshot, CancellationToken cancellationToken)
    {
        var name = Parse(reference);
        var config = ImageConfigDocument.Parse(parent.ConfigJson).Config;
        var image = SlackerImage.Create(config, new SlackerImageLayer(snapshot, parent.ChunkSize, parent.Size), $"commit of {parent.Reference}");
        await images.Local.AddAsync(name.ToString(), image, cancellationToken);
        return Digest.Compute(image.ManifestBytes).ToString();
    }

    private static ImageName Parse(string reference)
    {
        try
        {
            return ImageName.Parse(reference);
        }
        catch (FormatException e)
        {
            throw new ContainerException(ContainerErrors.BadRequest, e.Message, e);
        }
    }
}
