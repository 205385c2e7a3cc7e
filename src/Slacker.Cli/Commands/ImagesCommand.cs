using System.CommandLine;
using System.Globalization;
using Slacker.Core.Api;
using Slacker.Images.Distribution;
using Slacker.Images.Import;
using Slacker.Images.Layers;
using Slacker.Images.Oci;
using Slacker.Images.Operations;
using Slacker.Images.Sources;
using Slacker.Images.Store;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker images`: the images this node knows (pulled, imported or tagged here); with --registry, the tags in
/// the server's registry. Also holds what the image commands share: the node-data option, the image service,
/// and turning image errors into one clear line.
/// </summary>
public static class ImagesCommand
{
    public static readonly Option<string> NodeData = new("--node-data")
    {
        Description = "The node's data directory, which holds the local image store (env SLACKER_NODE_DATA).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SLACKER_NODE_DATA") is { Length: > 0 } dir ? dir : "/var/lib/slacker/node",
    };

    public static Command Create()
    {
        var registryOption = new Option<bool>("--registry") { Description = "List the tags in the server's registry instead of this node's images." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only print image ids (manifest digests)." };
        var command = new Command("images", "List images.") { registryOption, quiet, NodeData };
        command.SetAction((parse, ct) => RunAsync(async () =>
        {
            var service = Service(parse);
            if (parse.GetValue(registryOption))
            {
                using var registry = service.ServerRegistry();
                Console.WriteLine($"{"REPOSITORY",-40} TAG");
                foreach (var repository in await registry.ListRepositoriesAsync(ct))
                {
                    foreach (var tag in await registry.ListTagsAsync(repository, ct))
                    {
                        Console.WriteLine($"{repository,-40} {tag}");
                    }
                }

                return 0;
            }

            var images = service.Local.List();
            if (parse.GetValue(quiet))
            {
                foreach (var image in images)
                {
                    Console.WriteLine(image.Manifest.Hex[..12]);
                }

                return 0;
            }

            Console.WriteLine($"{"REPOSITORY",-40} {"TAG",-16} {"IMAGE ID",-12}  {"SNAPSHOT",-19}  {"SIZE",9}  ADDED");
            foreach (var image in images)
            {
                var name = ImageName.Parse(image.Name);
                var repository = name.Host is null ? name.Repository : name.Host + "/" + name.Repository;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{repository,-40} {name.Tag,-16} {image.Manifest.Hex[..12],-12}  {image.Layer.Snapshot[..19],-19}  {Size(image.Layer.Size),9}  {image.Added:yyyy-MM-dd HH:mm}"));
            }

            return 0;
        }));
        return command;
    }

    public static ImageService Service(ParseResult parse)
    {
        var servers = ServerList.Parse(parse.GetValue(CliGlobals.Server) ?? CliGlobals.DefaultServer);
        return new ImageService(servers.Primary, LocalImageStore.Default(parse.GetValue(NodeData)), CliGlobals.Handler(servers));
    }

    public static string Size(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB");

    /// <summary>Image errors (bad input, refused layers, registry answers) as one line and exit code 1.</summary>
    public static Task<int> RunAsync(Func<Task<int>> body) => CliGlobals.RunAsync(async () =>
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is ImageFormatException or LayerRejectedException or RegistryException or BlobVerificationException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"slacker: {e.Message}");
            return 1;
        }
    });
}
