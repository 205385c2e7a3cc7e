using System.Reflection;

namespace Slacker.Bench.Drivers;

/// <summary>
/// Which `slacker` the slacker driver runs: the one named by --slacker-cli or SLACKER_CLI, else the executable the
/// bench itself runs in (`slacker bench`). A managed build (`slacker.dll`) is run through `dotnet`.
/// </summary>
public static class SlackerExecutable
{
    public const string EnvironmentVariable = "SLACKER_CLI";

    /// <summary>The configured CLI, or null when nothing is configured and this process is not slacker.</summary>
    public static string? Default() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured ? configured : Current();

    /// <summary>This process's own slacker executable: the native binary, or slacker.dll under dotnet.</summary>
    public static string? Current()
    {
        if (Environment.ProcessPath is { } process && Path.GetFileName(process) == "slacker")
        {
            return process;
        }

        return Assembly.GetEntryAssembly()?.GetName().Name == "slacker" && File.Exists(Path.Combine(AppContext.BaseDirectory, "slacker.dll"))
            ? Path.Combine(AppContext.BaseDirectory, "slacker.dll")
            : null;
    }

    /// <summary>The command line that runs <paramref name="path"/>: itself, or `dotnet path` for a managed build.</summary>
    public static ContainerCli Cli(string path, IReadOnlyDictionary<string, string>? environment = null) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? new ContainerCli("dotnet", [path], environment)
            : new ContainerCli(path, [], environment);
}
