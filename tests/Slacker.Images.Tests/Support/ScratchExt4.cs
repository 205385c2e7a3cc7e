using Slacker.Images.Ext4;
using Slacker.Native;

namespace Slacker.Images.Tests.Support;

/// <summary>A fresh ext4 on a sparse file, loop-attached and mounted for one test; disposal undoes all of it.</summary>
public sealed class ScratchExt4 : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private LoopDevice? _loop;
    private Ext4Mount? _mount;

    private ScratchExt4(TempDirectory dir) => _dir = dir;

    public string Root => _mount!.MountPoint;

    /// <summary>A directory next to the mount, outside the file system: escapes would land here.</summary>
    public string Outside => Path.Combine(_dir.Path, "outside");

    public string ImageFile => Path.Combine(_dir.Path, "fs.img");

    public static async Task<ScratchExt4> CreateAsync(long size = 256L << 20)
    {
        var scratch = new ScratchExt4(Scratch.Dir("ext4"));
        try
        {
            Directory.CreateDirectory(scratch.Outside);
            await Ext4Format.CreateAsync(scratch.ImageFile, new Ext4Layout(size, 16384, Guid.Parse("6b1e2c1a-0000-4000-8000-000000000001"), 1_700_000_000));
            scratch._loop = LoopDevice.Attach(scratch.ImageFile, readOnly: false, directIo: false);
            scratch._mount = Ext4Mount.Mount(scratch._loop.DevicePath, scratch._dir.Path, readOnly: false);
            return scratch;
        }
        catch
        {
            await scratch.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_mount is not null)
        {
            await _mount.DisposeAsync();
        }

        _loop?.Dispose();

        _dir.Dispose();
    }
}
