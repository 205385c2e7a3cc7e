using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slacker.Native;

namespace Slacker.Fuse;

/// <summary>
/// A mounted one-file FUSE file system served from this process over /dev/fuse (no libfuse, no fusermount; root).
/// </summary>
public sealed partial class FuseSession : IDisposable
{
    private readonly FuseReader[] _readers;
    private readonly ILogger _logger;
    private readonly TimeSpan _timeout;
    private int _unmounted;

    private FuseSession(string mountPoint, string fileName, uint connectionId, FuseSessionStats stats, ILogger logger, TimeSpan timeout, FuseReader[] readers)
    {
        MountPoint = mountPoint;
        FilePath = Path.Combine(mountPoint, fileName);
        ConnectionId = connectionId;
        Stats = stats;
        _logger = logger;
        _timeout = timeout;
        _readers = readers;
    }

    /// <summary>Canonical path of the mount point (symlinks resolved), as in /proc/self/mountinfo.</summary>
    public string MountPoint { get; }

    /// <summary>Path.Combine(MountPoint, options.FileName).</summary>
    public string FilePath { get; }

    /// <summary>N in /sys/fs/fuse/connections/N (minor of the 0:N device in mountinfo).</summary>
    public uint ConnectionId { get; }

    public FuseSessionStats Stats { get; }

    /// <summary>What FUSE_INIT settled on; for diagnostics and tests.</summary>
    internal FuseConnectionInfo Connection { get; private init; }

    /// <summary>Sum of GC bytes the reader threads allocated while serving (should stay flat after warm-up).</summary>
    internal long ServingAllocatedBytes => _readers.Sum(reader => reader.AllocatedBytes);

    /// <summary>Requests taken by each reader thread (its own cloned fd), in reader order.</summary>
    internal long[] RequestsPerReader => _readers.Select(reader => reader.Requests).ToArray();

    /// <summary>Reader threads still running (0 once the connection has ended).</summary>
    internal int LiveReaders => _readers.Count(reader => reader.IsAlive);

    /// <summary>
    /// Mounts <paramref name="file"/> as the only entry of <paramref name="mountPoint"/> (an existing directory)
    /// and returns once the kernel's FUSE_INIT has been answered.
    /// </summary>
    public static FuseSession Mount(string mountPoint, IFuseFile file, FuseMountOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(mountPoint);
        ArgumentNullException.ThrowIfNull(file);
        options ??= new FuseMountOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        if (file.Size < 0)
        {
            throw new ArgumentException($"IFuseFile.Size is {file.Size}; it must be zero or more.", nameof(file));
        }

        if (!Directory.Exists(mountPoint))
        {
            throw new DirectoryNotFoundException($"Mount point '{mountPoint}' is not an existing directory; create it first.");
        }

        var canonical = Libc.CanonicalPath(mountPoint);
        var pageSize = Environment.SystemPageSize;
        var maxPagesLimit = FuseKernelMount.ReadMaxPagesLimit();
        var maxWrite = FuseInitNegotiation.EffectiveMaxWrite(options.MaxWrite, pageSize, maxPagesLimit);
        if (maxWrite != options.MaxWrite)
        {
            logger.LogInformation(
                "FUSE max_write {Requested} lowered to {Effective} (page size {PageSize}, max_pages_limit {Limit}).",
                options.MaxWrite,
                maxWrite,
                pageSize,
                maxPagesLimit);
        }

        var fds = new List<int>();
        var mounted = false;
        FuseReader[]? readers = null;
        try
        {
            fds.Add(FuseKernelMount.OpenDevice());
            FuseKernelMount.Mount(canonical, fds[0], options, file.ReadOnly, maxWrite);
            mounted = true;
            var connectionId = FuseKernelMount.FindConnectionId(canonical, options.FsName);

            // A clone needs the master already attached to a connection, i.e. after mount(2).
            for (var i = 1; i < options.ReaderThreads; i++)
            {
                fds.Add(FuseKernelMount.CloneDevice(fds[0]));
            }

            var stats = new FuseSessionStats();
            var tree = new OneFileTree(file, options.FileName, Libc.GetUid(), Libc.GetGid());
            var processor = new FuseRequestProcessor(file, tree, stats, logger, maxWrite, pageSize, maxPagesLimit);
            readers = fds.Select((fd, index) => new FuseReader(fd, index, processor, logger, maxWrite)).ToArray();
            foreach (var reader in readers)
            {
                reader.Start();
            }

            fds.Clear(); // the reader threads own the fds now

            var initialized = processor.Initialized;
            if (!((IAsyncResult)initialized).AsyncWaitHandle.WaitOne(options.Timeout))
            {
                throw new TimeoutException(
                    $"The kernel did not send FUSE_INIT for {canonical} within {options.Timeout.TotalSeconds:0.#} s.");
            }

            var session = new FuseSession(canonical, options.FileName, connectionId, stats, logger, options.Timeout, readers)
            {
                Connection = initialized.GetAwaiter().GetResult(), // rethrows a refused INIT as its IOException
            };
            logger.LogInformation(
                "FUSE mounted {MountPoint} (connection {ConnectionId}, {Readers} readers, max_write {MaxWrite}).",
                canonical,
                connectionId,
                readers.Length,
                maxWrite);
            return session;
        }
        catch
        {
            if (mounted)
            {
                FuseKernelMount.AbortAndDetach(canonical, options.FsName, logger);
            }

            foreach (var fd in fds)
            {
                Libc.Close(fd);
            }

            // Readers see ENODEV after the abort above and close their own fds.
            foreach (var reader in readers ?? [])
            {
                reader.Join(options.Timeout);
            }

            throw;
        }
    }

    /// <summary>
    /// Orderly unmount: lazy umount2(MNT_DETACH), then wait (bounded) for the readers, which close their fds on the
    /// kernel's ENODEV. While something still holds the file (a loop device), the connection lives on and keeps
    /// being served; detach the loop device first, or call <see cref="Abort"/>.
    /// </summary>
    public void Unmount()
    {
        if (Interlocked.Exchange(ref _unmounted, 1) == 0 && Libc.Umount2(MountPoint, Libc.MNT_DETACH) != 0)
        {
            var errno = Libc.LastErrno;
            if (errno is not (Libc.EINVAL or Libc.ENOENT))
            {
                _logger.LogWarning("umount2({MountPoint}, MNT_DETACH) failed: {Error}.", MountPoint, Libc.ErrnoText(errno));
            }
        }

        WaitForReaders();
    }

    /// <summary>Ends the connection at once (pending and future requests fail), then unmounts.</summary>
    public void Abort()
    {
        try
        {
            FuseControlFs.Abort(ConnectionId);
        }
        catch (IOException exception)
        {
            _logger.LogError(exception, "Aborting FUSE connection {ConnectionId} failed; unmounting anyway.", ConnectionId);
        }

        Unmount();
    }

    public void Dispose() => Unmount();

    private void WaitForReaders()
    {
        var deadline = DateTime.UtcNow + _timeout;
        foreach (var reader in _readers)
        {
            // A handler that unmounts its own session must not wait for itself.
            if (reader.IsCurrentThread)
            {
                continue;
            }

            var left = deadline - DateTime.UtcNow;
            if (!reader.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                _logger.LogWarning(
                    "FUSE connection {ConnectionId} ({MountPoint}) is still in use after {Timeout} s: something holds the " +
                    "file open (a loop device?) or a handler is blocked. Its readers keep serving until it is released; " +
                    "call Abort() to force it.",
                    ConnectionId,
                    MountPoint,
                    _timeout.TotalSeconds);
                return;
            }
        }
    }
}
