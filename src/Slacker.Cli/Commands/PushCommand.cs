using System.CommandLine;
using Slacker.Images.Import;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker push NAME[:TAG]`: a short name goes to the default server's registry; HOST[:PORT]/REPO[:TAG] to any
/// OCI registry, as a plain OCI artifact (manifest, config, snapshot layer) whose layer names this server.
/// </summary>
public static class PushCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "NAME[:TAG] or HOST[:PORT]/REPO[:TAG] (tag the image with that name first)." };
        var command = new Command("push", "Push an image's manifest to a registry; no chunk is uploaded (they are on the server already).") { ImagesCommand.NodeData, name };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            var image = ImageName.Parse(parse.GetValue(name)!);
            var digest = await ImagesCommand.Service(parse).PushAsync(image, ct);
            Console.WriteLine($"{image}: pushed {digest}");
            return 0;
        }));
        return command;
    }
}
