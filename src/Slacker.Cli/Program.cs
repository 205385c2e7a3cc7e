using System.CommandLine;
using Slacker.Cli;
using Slacker.Cli.Commands;

// The one list of commands. A new command is one file under Commands/ with a Create() and one line here.
Func<Command>[] commands =
[
    ServerCommand.Create,
    FsckCommand.Create,
    GcCommand.Create,
    NodeCommand.Create,
    RunCommand.Create,
    PsCommand.Create,
    LogsCommand.Create,
    StopCommand.Create,
    KillCommand.Create,
    RmCommand.Create,
    CommitCommand.Create,
    StatsCommand.Create,
    ContainerInspectCommand.Create,
    ServerBenchCommand.Create,
];

var root = new RootCommand("Slacker: containers that start fast because images are lazily fetched block-level snapshots.");
root.Options.Add(CliGlobals.Server);
foreach (var create in commands)
{
    root.Subcommands.Add(create());
}

return await root.Parse(RunCommand.SeparateContainerCommand(args)).InvokeAsync();
