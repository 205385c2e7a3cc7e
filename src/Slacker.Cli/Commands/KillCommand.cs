using System.CommandLine;

namespace Slacker.Cli.Commands;

/// <summary>`slacker kill [-s SIGNAL] CONTAINER...`.</summary>
public static class KillCommand
{
    public static Command Create()
    {
        var signal = new Option<string>("--signal", "-s") { Description = "Signal name (KILL, TERM, HUP...) or number.", DefaultValueFactory = _ => "KILL" };
        var containers = new Argument<string[]>("container") { Description = "Container names or ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("kill", "Send a signal (default KILL) to running containers.") { signal, NodeClient.SocketOption, containers };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            foreach (var container in parse.GetValue(containers)!)
            {
                await node.PostAsync($"v1/containers/{Uri.EscapeDataString(container)}/kill?signal={Uri.EscapeDataString(parse.GetValue(signal)!)}", ct);
                Console.WriteLine(container);
            }

            return 0;
        }));
        return command;
    }
}
