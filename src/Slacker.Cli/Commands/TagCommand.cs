using System.CommandLine;
using Slacker.Images.Import;

namespace Slacker.Cli.Commands;

/// <summary>`slacker tag SOURCE TARGET`: another name for an image on this node (e.g. HOST:PORT/REPO:TAG before push).</summary>
public static class TagCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "An image this node or the default server knows." };
        var target = new Argument<string>("target") { Description = "The new name." };
        var command = new Command("tag", "Give an image another name.") { ImagesCommand.NodeData, source, target };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            await ImagesCommand.Service(parse).TagAsync(ImageName.Parse(parse.GetValue(source)!), ImageName.Parse(parse.GetValue(target)!), ct);
            return 0;
        }));
        return command;
    }
}
