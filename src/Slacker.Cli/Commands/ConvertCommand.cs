using System.CommandLine;
using System.Runtime.Versioning;
using Slacker.Images.Import;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker convert NAME[:TAG]`: a standard image that docker or podman pushed to the server's registry becomes a
/// Slacker image under the same name. The same importer runs, with the server's own registry as the source.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ConvertCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "NAME[:TAG] of a standard image in the server's registry." };
        var to = new Option<string?>("--to") { Description = "NAME[:TAG] for the Slacker image (default: replace the tag in place)." };
        var command = new Command("convert", "Turn a standard image pushed to the server into a Slacker image.")
        {
            ImportCommand.Platform, ImportCommand.FreeSpace, ImportCommand.MaxUnpacked, ImportCommand.ChunkSize, ImagesCommand.NodeData, to, name,
        };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(() =>
        {
            var source = ImageName.Parse(parse.GetValue(name)!);
            if (!source.IsOnDefaultServer)
            {
                throw new ArgumentException($"convert works on images in the Slacker server's registry; for {source} use 'slacker import docker://{source} NAME'.");
            }

            var server = ImagesCommand.Service(parse).Server;
            var target = parse.GetValue(to) is { } other ? ImageName.Parse(other) : source;
            return ImportCommand.RunImportAsync(parse, $"docker://{server.Authority}/{source.Repository}:{source.Tag}", target, insecure: server.Scheme == "http", ct);
        }));
        return command;
    }
}
