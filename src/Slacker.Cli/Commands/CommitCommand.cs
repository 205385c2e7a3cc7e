using System.CommandLine;
using System.Text.Json;
using Slacker.Node.Agent;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker commit CONTAINER NAME[:TAG]`: a snapshot of the container's clone becomes an image. Only the chunks
/// the container changed (and the server lacks) move, so the cost grows with the change, not the image.
/// </summary>
public static class CommitCommand
{
    public static Command Create()
    {
        var container = new Argument<string>("container") { Description = "Container name or id." };
        var reference = new Argument<string>("reference") { Description = "Image NAME[:TAG] to record." };
        var format = FormatOption.Create();
        var command = new Command("commit", "Create an image from a container's changes (a snapshot of its clone).") { format, NodeClient.SocketOption, container, reference };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            var result = await node.PostAsync($"v1/containers/{Uri.EscapeDataString(parse.GetValue(container)!)}/commit",
                new CommitRequest(parse.GetValue(reference)!), AgentJsonContext.Default.CommitRequest, AgentJsonContext.Default.CommitResponse, ct);
            if (FormatOption.IsJson(parse, format))
            {
                Console.WriteLine(JsonSerializer.Serialize(result, AgentJsonContext.Default.CommitResponse));
            }
            else
            {
                Console.WriteLine(result.ImageId);
                await Console.Error.WriteLineAsync(
                    $"committed {result.Reference}: snapshot {result.Snapshot[..19]}, {result.DirtyChunks} changed chunks, " +
                    $"{result.UploadedChunks} uploaded ({Bytes.Format(result.UploadedBytes)}), {result.ChunksAlreadyOnServer} already on the server, {result.Seconds:0.000} s");
            }

            return 0;
        }));
        return command;
    }
}

/// <summary>Human byte counts (KiB, MiB, GiB).</summary>
public static class Bytes
{
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB",
    };
}
