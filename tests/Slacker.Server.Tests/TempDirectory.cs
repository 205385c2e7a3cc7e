namespace Slacker.Server.Tests;

/// <summary>A directory under /tmp that is deleted with everything in it, even when the test fails.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "slacker-server-test") =>
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
