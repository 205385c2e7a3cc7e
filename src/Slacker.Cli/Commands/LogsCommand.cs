using System.CommandLine;
using System.Text;
using Slacker.Node.Containers;

namespace Slacker.Cli.Commands;

/// <summary>`slacker logs [-f] [-t] CONTAINER`: the container's output, stdout and stderr kept apart.</summary>
public static class LogsCommand
{
    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing output until the container exits." };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "Prefix each line with its time." };
        var container = new Argument<string>("container") { Description = "Container name or id." };
        var command = new Command("logs", "Print a container's output.") { follow, timestamps, NodeClient.SocketOption, container };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            using var response = await node.StreamAsync(
                $"v1/containers/{Uri.EscapeDataString(parse.GetValue(container)!)}/logs?follow={(parse.GetValue(follow) ? "true" : "false")}", ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var stdout = Console.OpenStandardOutput();
            var stderr = Console.OpenStandardError();
            var withTime = parse.GetValue(timestamps);
            var pending = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                var span = buffer.AsMemory(0, read);
                while (!span.IsEmpty)
                {
                    var newline = span.Span.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        pending.Write(span.Span);
                        break;
                    }

                    pending.Write(span.Span[..newline]);
                    await WriteRecordAsync(pending.ToArray(), stdout, stderr, withTime, ct);
                    pending.SetLength(0);
                    span = span[(newline + 1)..];
                }
            }

            return 0;
        }));
        return command;
    }

    private static async Task WriteRecordAsync(byte[] line, Stream stdout, Stream stderr, bool withTime, CancellationToken ct)
    {
        if (!ContainerLogRecord.TryParse(line, out var record))
        {
            return;
        }

        var target = record.Stream == StdioStream.Stderr ? stderr : stdout;
        if (withTime)
        {
            await target.WriteAsync(Encoding.UTF8.GetBytes(record.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture) + " "), ct);
        }

        await target.WriteAsync(record.Text, ct);
        if (!record.Partial)
        {
            target.WriteByte((byte)'\n');
        }

        await target.FlushAsync(ct);
    }
}
