using Slacker.Bench.Drivers;

namespace Slacker.Bench.Tests;

/// <summary>
/// The slacker these tests run: SLACKER_CLI (CI points it at the published native binary), else the managed
/// build that the project reference copies next to the tests.
/// </summary>
internal static class SlackerCli
{
    public static string Path =>
        Environment.GetEnvironmentVariable(SlackerExecutable.EnvironmentVariable) is { Length: > 0 } configured
            ? configured
            : System.IO.Path.Combine(AppContext.BaseDirectory, "slacker.dll");
}
