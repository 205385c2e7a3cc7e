using System.CommandLine;

namespace Slacker.Cli.Commands;

/// <summary>`slacker rm [-f] CONTAINER...`: removes containers, their clones on the server and their local changes.</summary>
public static class RmCommand
{
    public static Command Create()
    {
        var force = new Option<bool>("--force", "-f") { Description = "Kill a running container first." };
        var containers = new Argument<string[]>("container") { Description = "Container names or ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "Remove containers.") { force, NodeClient.SocketOption, containers };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            foreach (var container in parse.GetValue(containers)!)
            {
                await node.DeleteAsync($"v1/containers/{Uri.EscapeDataString(container)}?force={parse.GetValue(force)}", ct);
                Console.WriteLine(container);
            }

            return 0;
        }));
        return command;
    }
}
