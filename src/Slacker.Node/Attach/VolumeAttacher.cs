using Slacker.Native;
using Microsoft.Extensions.Logging;
using Slacker.Fuse;
using Slacker.Node.Volumes;

namespace Slacker.Node.Attach;

/// <summary>
/// Attaches volumes on the node: FUSE mount of the LazyVolume at NODE/mnt/&lt;id&gt;/fuse, a direct-I/O loop device
/// over its file, ext4 mounted at NODE/mnt/&lt;id&gt;/root. <see cref="CleanupStale"/> clears what a crashed node
/// left under NODE/mnt (and nothing else), keeping the volumes' dirty chunks for re-attach.
/// </summary>
public sealed class VolumeAttacher(NodeStorage node)
{
    public const string FuseFsName = "slacker";

    private readonly ILogger _logger = node.Loggers.CreateLogger<VolumeAttacher>();

    public NodeStorage Node { get; } = node;

    public async Task<AttachedVolume> AttachAsync(string volumeId, bool readOnly = false, CancellationToken cancellationToken = default)
    {
        var mountDirectory = Node.Paths.MountDirectory(volumeId);
        var fuseDirectory = Path.Combine(mountDirectory, "fuse");
        var root = Path.Combine(mountDirectory, "root");
        if (Directory.Exists(root) && MountTable.Read().Any(m => MountTable.IsAtOrUnder(m.MountPoint, mountDirectory)))
        {
            throw new InvalidOperationException($"Volume {volumeId} is already attached at {root}; detach it first.");
        }

        Directory.CreateDirectory(fuseDirectory);
        Directory.CreateDirectory(root);

        // The LazyVolume stays writable even for a read-only attach: ext4 replays its journal through the device
        // when the image was not cleanly unmounted; those writes land in this clone's dirty chunks only.
        var volume = await LazyVolume.OpenAsync(Node, volumeId, readOnly: false, cancellationToken);
        StartupProfiler? profiler = null;
        FuseSession? fuse = null;
        LoopDevice? loop = null;
        try
        {
            // Before the mount: ext4 reads its superblock, group descriptors and journal first, and those are in
            // every container's startup too.
            profiler = await StartupProfiler.StartAsync(volume, Node, cancellationToken);
            fuse = FuseSession.Mount(
                fuseDirectory,
                volume,
                new FuseMountOptions { ReaderThreads = Node.Options.FuseReaderThreads, FsName = FuseFsName },
                Node.Loggers.CreateLogger<FuseSession>());
            loop = LoopDevice.Attach(fuse.FilePath, readOnly: false, directIo: true);
            CheckDirectIo(loop, fuse.FilePath);
            Ext4Mount.Mount(loop.DevicePath, root, readOnly);
            _logger.LogInformation("Attached volume {Volume} at {Root} ({Device}, direct I/O {DirectIo}).", volumeId, root, loop.DevicePath, loop.DirectIo);
            return new AttachedVolume(volume, fuse, loop, profiler, mountDirectory, root, readOnly, _logger);
        }
        catch
        {
            loop?.Dispose();
            fuse?.Unmount();
            profiler?.Dispose();
            volume.Dispose();
            TryDelete(mountDirectory);
            throw;
        }
    }

    /// <summary>
    /// Removes the mounts, loop devices and FUSE connections that a crashed node left under NODE/mnt, in the
    /// order that cannot hang on a dead FUSE server: abort FUSE connections, unmount ext4, unbind loop devices.
    /// </summary>
    public StaleCleanup CleanupStale()
    {
        var mounts = Node.Paths.Mounts;
        if (!Directory.Exists(mounts))
        {
            return new StaleCleanup(0, 0, 0);
        }

        // Aborting first makes every later write to the image fail fast instead of waiting on a dead server.
        var fuse = FuseSession.CleanupStale(mounts, FuseFsName);
        var ext4 = 0;
        foreach (var mount in MountTable.Read().Where(m => MountTable.IsAtOrUnder(m.MountPoint, mounts)).OrderByDescending(m => m.MountId))
        {
            try
            {
                Ext4Mount.Unmount(mount.MountPoint, TimeSpan.FromSeconds(1));
            }
            catch (IOException e)
            {
                // A container of the dead node still uses it: detach lazily, the kernel finishes when it exits.
                _logger.LogWarning("Stale mount {MountPoint} is busy ({Error}); detaching it lazily.", mount.MountPoint, e.Message);
                Libc.Umount2(mount.MountPoint, Libc.MNT_DETACH);
            }

            ext4++;
        }

        var loops = 0;
        foreach (var stale in LoopDevice.DetachStale(mounts))
        {
            _logger.LogInformation("Detached stale /dev/loop{Number} ({Backing}).", stale.Number, stale.BackingFile);
            loops++;
        }

        foreach (var directory in Directory.EnumerateDirectories(mounts))
        {
            TryDelete(directory);
        }

        if (fuse + ext4 + loops > 0)
        {
            _logger.LogWarning("Cleaned up after a crashed node: {Fuse} FUSE mounts, {Ext4} file system mounts, {Loops} loop devices under {Root}.", fuse, ext4, loops, mounts);
        }

        return new StaleCleanup(fuse, ext4, loops);
    }

    /// <summary>
    /// Without direct I/O the kernel caches the image twice (ext4's page cache and the FUSE file's); it falls back
    /// silently when the FUSE file cannot do O_DIRECT at 4 KiB alignment. Refused when the node requires it.
    /// </summary>
    private void CheckDirectIo(LoopDevice loop, string backingFile)
    {
        if (loop.DirectIo)
        {
            return;
        }

        if (Node.Options.RequireDirectIo)
        {
            throw new IOException($"{loop.DevicePath} over {backingFile} fell back to buffered I/O (/sys/block/loop{loop.Number}/loop/dio is 0): the backing file does not support O_DIRECT at 4 KiB alignment. The image would be cached twice; refusing.");
        }

        _logger.LogWarning("{Device} over {File} runs with buffered I/O: the image is cached twice.", loop.DevicePath, backingFile);
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (!MountTable.Read().Any(m => MountTable.IsAtOrUnder(m.MountPoint, directory)))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException e)
        {
            _logger.LogWarning("Could not remove {Directory}: {Error}", directory, e.Message);
        }
    }
}

/// <summary>What <see cref="VolumeAttacher.CleanupStale"/> removed.</summary>
public sealed record StaleCleanup(int FuseMounts, int FileSystemMounts, int LoopDevices);
