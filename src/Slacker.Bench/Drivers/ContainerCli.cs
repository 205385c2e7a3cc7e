using Slacker.Bench.Processes;
using Slacker.Native.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>A docker-compatible command line (docker, podman, slacker) with its global arguments.</summary>
public sealed class ContainerCli(string binary, IReadOnlyList<string> globalArguments, IReadOnlyDictionary<string, string>? environment = null)
{
    public string Binary { get; } = binary;

    public IReadOnlyList<string> GlobalArguments { get; } = globalArguments;

    public IReadOnlyDictionary<string, string>? Environment { get; } = environment;

    public Task<ProcessResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken, string? stdin = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(
            Binary,
            GlobalArguments.Concat(arguments),
            new ProcessOptions { Stdin = stdin, Timeout = timeout ?? TimeSpan.FromMinutes(30), Environment = Environment },
            cancellationToken);

    public async Task<ProcessResult> MustAsync(string what, IEnumerable<string> arguments, CancellationToken cancellationToken, string? stdin = null, TimeSpan? timeout = null) =>
        (await RunAsync(arguments, cancellationToken, stdin, timeout)).EnsureSuccess(what);

    public FollowedProcess Follow(IEnumerable<string> arguments) => FollowedProcess.Start(Binary, GlobalArguments.Concat(arguments), Environment);
}
