using System.CommandLine;
using Slacker.Bench;

var root = new RootCommand("HelloBench host (superseded by `slacker bench`).");
root.Subcommands.Add(BenchCommand.Create());

// On Ctrl+C/SIGTERM the bench cancels and then stops the dockerd, registry and podman storage it started;
// that takes seconds, longer than System.CommandLine's default 2 s before it ends the process.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = BenchCommand.ShutdownTimeout });
