namespace Slacker.Node.Tests.Infrastructure;

/// <summary>Finds sibling build outputs (the CLI, the test host) in the same artifacts tree as this test assembly.</summary>
internal static class Artifacts
{
    public static string CliDll => Find("Slacker.Cli", "slacker.dll", "SLACKER_CLI_DLL");

    public static string TestHostDll => Find("Slacker.Node.TestHost", "Slacker.Node.TestHost.dll", "SLACKER_NODE_TESTHOST_DLL");

    private static string Find(string project, string file, string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } overridden)
        {
            return overridden;
        }

        // <artifacts>/bin/Slacker.Node.Tests/<config>/ -> <artifacts>/bin/<project>/<config>/<file>
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = here.Name;
        var bin = here.Parent?.Parent ?? throw new InvalidOperationException($"Unexpected test output layout: {here.FullName}.");
        var path = Path.Combine(bin.FullName, project, configuration, file);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{file} is not built next to the tests (looked at {path}); build {project} with the same --artifacts-path, or set {variable}.");
    }
}
