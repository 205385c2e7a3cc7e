namespace Slacker.Testing;

/// <summary>Finds build outputs (the CLI, a test host) next to the running tests or in the same artifacts tree.</summary>
public static class Artifacts
{
    /// <summary>The `slacker` CLI: copied next to the tests that reference Slacker.Cli, built beside those that do not.</summary>
    public static string CliDll => Find("Slacker.Cli", "slacker.dll", "SLACKER_CLI_DLL");

    /// <summary>The dotnet host that runs the tests, so that a child runs on the same runtime.</summary>
    public static string DotNet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary><paramref name="file"/> of <paramref name="project"/>; <paramref name="variable"/> in the environment overrides.</summary>
    public static string Find(string project, string file, string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } overridden)
        {
            return overridden;
        }

        var here = Path.Join(AppContext.BaseDirectory, file);
        if (File.Exists(here))
        {
            return here;
        }

        // <artifacts>/bin/<tests>/<config>/ -> <artifacts>/bin/<project>/<config>/<file>
        var directory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = directory.Name;
        var bin = directory.Parent?.Parent ?? throw new InvalidOperationException($"Unexpected test output layout: {directory.FullName}.");
        var path = Path.Combine(bin.FullName, project, configuration, file);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{file} is not built next to the tests (looked at {here} and {path}); build {project} with the same --artifacts-path, or set {variable}.");
    }
}
