using System.CommandLine;

namespace Slacker.Cli.Commands;

/// <summary>`slacker stop [-t SECONDS] CONTAINER...`: SIGTERM, then SIGKILL after the grace period (docker's default 10 s).</summary>
public static class StopCommand
{
    public static Command Create()
    {
        var time = new Option<int>("--time", "-t") { Description = "Seconds to wait before SIGKILL.", DefaultValueFactory = _ => 10 };
        var containers = new Argument<string[]>("container") { Description = "Container names or ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("stop", "Stop running containers (SIGTERM, then SIGKILL after the grace period).") { time, NodeClient.SocketOption, containers };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            foreach (var container in parse.GetValue(containers)!)
            {
                await node.PostAsync($"v1/containers/{Uri.EscapeDataString(container)}/stop?t={Math.Max(0, parse.GetValue(time))}", ct);
                Console.WriteLine(container);
            }

            return 0;
        }));
        return command;
    }
}
