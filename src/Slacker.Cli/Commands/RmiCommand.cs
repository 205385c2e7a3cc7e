using System.CommandLine;
using Slacker.Images.Import;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker rmi NAME...`: forget images on this node; with --registry also delete the tags in the registry
/// (and the manifest once untagged), after which gc reclaims a snapshot that nothing else uses.
/// </summary>
public static class RmiCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("name") { Description = "Images to remove.", Arity = ArgumentArity.OneOrMore };
        var registry = new Option<bool>("--registry") { Description = "Also delete the tag from the registry the name designates." };
        var command = new Command("rmi", "Remove images.") { registry, ImagesCommand.NodeData, names };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            var service = ImagesCommand.Service(parse);
            var status = 0;
            foreach (var text in parse.GetValue(names)!)
            {
                var name = ImageName.Parse(text);
                var (local, remote) = await service.RemoveAsync(name, parse.GetValue(registry), ct);
                if (!local && !remote)
                {
                    await Console.Error.WriteLineAsync($"slacker: no such image: {name}");
                    status = 1;
                    continue;
                }

                Console.WriteLine($"Untagged: {name}{(remote ? " (and in the registry)" : "")}");
            }

            return status;
        }));
        return command;
    }
}
