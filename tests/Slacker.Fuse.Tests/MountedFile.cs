namespace Slacker.Fuse.Tests;

/// <summary>A MemoryFile mounted through a real FUSE session in a temp dir; Dispose unmounts and cleans up.</summary>
internal sealed class MountedFile : IDisposable
{
    private readonly TempDirectory _directory = new("slacker-fuse");

    public MountedFile(MemoryFile file, FuseMountOptions? options = null)
    {
        File = file;
        try
        {
            Session = FuseSession.Mount(_directory.CreateSub("mnt"), file, options, new TestLogger());
        }
        catch
        {
            _directory.Dispose();
            throw;
        }
    }

    public MountedFile(int size, FuseMountOptions? options = null)
        : this(new MemoryFile(size), options)
    {
    }

    public MemoryFile File { get; }

    public FuseSession Session { get; }

    public string Path => Session.FilePath;

    public void Dispose()
    {
        try
        {
            Session.Unmount();
            if (Kernel.IsMounted(Session.MountPoint))
            {
                Session.Abort();
            }
        }
        finally
        {
            _directory.Dispose();
        }
    }
}
