using System.CommandLine;
using Slacker.Bench;

var root = new RootCommand("HelloBench host (superseded by `slacker bench`).");
root.Subcommands.Add(BenchCommand.Create());
return await root.Parse(args).InvokeAsync();
