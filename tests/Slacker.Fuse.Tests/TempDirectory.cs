namespace Slacker.Fuse.Tests;

/// <summary>A fresh directory under /tmp, removed (if nothing is mounted on it any more) on Dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string tag = "fuse")
    {
        Path = Directory.CreateTempSubdirectory($"slacker-{tag}-").FullName;
    }

    public string Path { get; }

    public string Sub(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Something is still mounted below (a failed test); the mount owner's cleanup reports it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
