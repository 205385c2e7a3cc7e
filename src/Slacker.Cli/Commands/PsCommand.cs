using System.CommandLine;
using System.Text.Json;
using Slacker.Node.Agent;
using Slacker.Node.Containers;

namespace Slacker.Cli.Commands;

/// <summary>`slacker ps [-a] [-q] [--format table|json]`: the node's containers, as docker lists them.</summary>
public static class PsCommand
{
    public static Command Create()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Show all containers (default: running only)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only print container ids." };
        var format = FormatOption.Create();
        var command = new Command("ps", "List containers on the node.") { all, quiet, format, NodeClient.SocketOption };
        command.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            using var node = NodeClient.For(parse);
            var containers = await node.GetAsync($"v1/containers?all={parse.GetValue(all)}", AgentJsonContext.Default.IReadOnlyListContainerRecord, ct);
            if (parse.GetValue(quiet))
            {
                foreach (var c in containers)
                {
                    Console.WriteLine(c.ShortId);
                }
            }
            else if (FormatOption.IsJson(parse, format))
            {
                // One JSON object per line, as docker's --format json prints.
                foreach (var c in containers)
                {
                    Console.WriteLine(JsonSerializer.Serialize(c, AgentJsonContext.Default.ContainerRecord));
                }
            }
            else
            {
                var rows = containers.Select(c => new[]
                {
                    c.ShortId, c.Config.Image, Quote(c.Args), Ago(c.CreatedAt) + " ago", StatusText(c), c.Name,
                }).ToList();
                Table.Print(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"], rows);
            }

            return 0;
        }));
        return command;
    }

    public static string StatusText(ContainerRecord c) => c.Status switch
    {
        ContainerStatus.Running => $"Up {Ago(c.StartedAt ?? c.CreatedAt)}",
        ContainerStatus.Exited => $"Exited ({(c.ExitCode is { } code ? code.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown")}) {Ago(c.FinishedAt ?? c.CreatedAt)} ago",
        _ => "Created",
    };

    private static string Quote(IReadOnlyList<string> args)
    {
        var text = string.Join(' ', args);
        return "\"" + (text.Length > 20 ? text[..19] + "…" : text) + "\"";
    }

    public static string Ago(DateTimeOffset when)
    {
        var span = DateTimeOffset.UtcNow - when;
        return span.TotalSeconds < 60 ? $"{Math.Max(1, (int)span.TotalSeconds)} seconds"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} minutes"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours} hours"
            : $"{(int)span.TotalDays} days";
    }
}

/// <summary>docker's --format for the commands that have one: a table for people, json for scripts.</summary>
public static class FormatOption
{
    public static Option<string> Create() => new("--format")
    {
        Description = "table (default) or json.",
        DefaultValueFactory = _ => "table",
        CustomParser = result => result.Tokens[0].Value is "table" or "json"
            ? result.Tokens[0].Value
            : Fail(result),
    };

    public static bool IsJson(ParseResult parse, Option<string> format) => parse.GetValue(format) == "json";

    private static string Fail(System.CommandLine.Parsing.ArgumentResult result)
    {
        result.AddError($"--format '{result.Tokens[0].Value}' is not supported: use table or json.");
        return "table";
    }
}

/// <summary>Left-aligned columns separated by three spaces, as docker prints them.</summary>
public static class Table
{
    public static void Print(IReadOnlyList<string> headers, IReadOnlyList<string[]> rows)
    {
        var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        Console.WriteLine(Line(headers, widths));
        foreach (var row in rows)
        {
            Console.WriteLine(Line(row, widths));
        }
    }

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("   ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
