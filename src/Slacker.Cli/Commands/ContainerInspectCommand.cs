using System.CommandLine;
using System.Text.Json;
using Slacker.Node.Agent;
using Slacker.Node.Containers;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker container inspect CONTAINER...`: the node's full record of containers as JSON (docker's
/// `container inspect`; the top-level `inspect` is the image command).
/// </summary>
public static class ContainerInspectCommand
{
    public static Command Create()
    {
        var containers = new Argument<string[]>("container") { Description = "Container names or ids.", Arity = ArgumentArity.OneOrMore };
        var inspect = new Command("inspect", "Show containers' configuration and state as JSON.") { NodeClient.SocketOption, containers };
        inspect.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            var records = new List<ContainerRecord>();
            foreach (var container in parse.GetValue(containers)!)
            {
                records.Add(await node.GetAsync($"v1/containers/{Uri.EscapeDataString(container)}", AgentJsonContext.Default.ContainerRecord, ct));
            }

            Console.WriteLine(JsonSerializer.Serialize<IReadOnlyList<ContainerRecord>>(records, AgentJsonContext.Default.IReadOnlyListContainerRecord));
            return 0;
        }));
        return new Command("container", "Manage containers.") { inspect };
    }
}
