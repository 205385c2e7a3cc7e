namespace Slacker.Testing;

/// <summary>A fresh directory (under /tmp unless told otherwise), removed with everything in it on Dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "slacker-test", string? parent = null)
    {
        Path = System.IO.Path.Combine(parent ?? System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside; nothing is created.</summary>
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates the directory <paramref name="name"/> inside and returns its path.</summary>
    public string CreateSub(string name) => Directory.CreateDirectory(Sub(name)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
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
