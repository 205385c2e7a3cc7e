using System.CommandLine;
using Slacker.Bench;
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
    ImportCommand.Create,
    ConvertCommand.Create,
    ExportCommand.Create,
    PushCommand.Create,
    PullCommand.Create,
    TagCommand.Create,
    ImagesCommand.Create,
    RmiCommand.Create,
    InspectCommand.Create,
    BenchCommand.Create,
];

var root = new RootCommand("Slacker: containers that start fast because images are lazily fetched block-level snapshots.");
root.Options.Add(CliGlobals.Server);
foreach (var create in commands)
{
    root.Subcommands.Add(create());
}

// After Ctrl-C/SIGTERM a command gets 90 s to finish (default 2 s): `slacker node` stops its containers and
// detaches their roots in order, and `slacker run` waits for the container it asked to stop.
return await root.Parse(RunCommand.SeparateContainerCommand(args))
    .InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(90) });
