using Microsoft.Extensions.Logging;
using Slacker.Fuse;
using Slacker.Native;
using Slacker.Node.Volumes;

namespace Slacker.Node.Attach;

/// <summary>
/// A volume mounted on the node: LazyVolume -> FUSE file -> loop device -> ext4 at <see cref="MountPath"/>.
/// Dispose detaches in the only safe order: ext4, then the loop device, then FUSE.
/// </summary>
public sealed class AttachedVolume : IDisposable
{
    private readonly FuseSession _fuse;
    private readonly LoopDevice _loop;
    private readonly StartupProfiler? _profiler;
    private readonly string _mountDirectory;
    private readonly ILogger _logger;
    private int _detached;

    internal AttachedVolume(LazyVolume volume, FuseSession fuse, LoopDevice loop, StartupProfiler? profiler, string mountDirectory, string mountPath, bool readOnly, ILogger logger)
    {
        Volume = volume;
        _fuse = fuse;
        _loop = loop;
        _profiler = profiler;
        _mountDirectory = mountDirectory;
        MountPath = mountPath;
        ReadOnly = readOnly;
        _logger = logger;
    }

    public string VolumeId => Volume.VolumeId;

    public LazyVolume Volume { get; }

    /// <summary>Where the ext4 file system is mounted (NODE/mnt/&lt;id&gt;/root).</summary>
    public string MountPath { get; }

    public string DevicePath => _loop.DevicePath;

    public int LoopNumber => _loop.Number;

    public bool DirectIo => _loop.DirectIo;

    /// <summary>The FUSE file the loop device reads (NODE/mnt/&lt;id&gt;/fuse/volume).</summary>
    public string FusePath => _fuse.FilePath;

    public uint FuseConnectionId => _fuse.ConnectionId;

    public FuseSessionStats FuseStats => _fuse.Stats;

    public bool ReadOnly { get; }

    /// <summary>
    /// Commits what the mounted file system holds now: ext4 is frozen (everything written back, journal
    /// checkpointed, writers held) while the dirty chunks are captured, and thawed before the upload.
    /// </summary>
    public Task<CommitResult> CommitAsync(string? label = null, CancellationToken cancellationToken = default)
    {
        if (ReadOnly)
        {
            throw new InvalidOperationException($"Volume {VolumeId} is mounted read-only at {MountPath}; there is nothing to commit.");
        }

        return VolumeCommitter.CommitAsync(Volume, label, Quiesce, cancellationToken);
    }

    private IDisposable Quiesce()
    {
        var thaw = Ext4Mount.Freeze(MountPath);
        try
        {
            _loop.FlushBuffers();
            return thaw;
        }
        catch
        {
            thaw.Dispose();
            throw;
        }
    }

    /// <summary>Unmounts ext4, unbinds the loop device, ends the FUSE session and closes the volume.</summary>
    public void Detach()
    {
        if (Interlocked.Exchange(ref _detached, 1) != 0)
        {
            return;
        }

        try
        {
            Ext4Mount.Unmount(MountPath, TimeSpan.FromSeconds(5));
        }
        catch
        {
            Interlocked.Exchange(ref _detached, 0); // still mounted: a later Detach may succeed
            throw;
        }

        try
        {
            _loop.Detach(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _fuse.Unmount();
            _profiler?.Dispose();
            Volume.Dispose();
        }

        try
        {
            Directory.Delete(_mountDirectory, recursive: true);
        }
        catch (IOException e)
        {
            _logger.LogWarning("Could not remove {Directory}: {Error}", _mountDirectory, e.Message);
        }

        _logger.LogInformation("Detached volume {Volume}.", VolumeId);
    }

    public void Dispose() => Detach();
}
