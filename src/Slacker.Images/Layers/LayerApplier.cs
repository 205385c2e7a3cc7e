using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Slacker.Native;

namespace Slacker.Images.Layers;

/// <summary>
/// ApplyDiff: applies layer tarballs, bottom-up, onto one directory so that the result is the tree docker's
/// overlay2 shows for the same layers. Whiteouts and opaque markers hide what lower layers added; a new entry
/// replaces whatever was at its path (directories merge). Ownership, modes (setuid, sticky...), xattrs and
/// mtimes are applied; directory times are set last, after all children exist.
/// </summary>
public sealed class LayerApplier : IDisposable
{
    private const int BlockSize = 4096;

    private readonly RootDirectory _root;
    private readonly LayerLimits _limits;
    private readonly UncompressedBudget _budget;
    private readonly Dictionary<string, (long Atime, long Mtime)> _directoryTimes = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private string _layer = "";

    public LayerApplier(string rootPath, LayerLimits limits, UncompressedBudget budget)
    {
        _root = new RootDirectory(rootPath);
        _limits = limits;
        _budget = budget;
    }

    /// <summary>Things applied with less fidelity than asked (an xattr the file system refused), for the report.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    public long EntriesApplied { get; private set; }

    /// <summary>Applies one layer blob (any compression). Throws <see cref="LayerRejectedException"/> on any problem.</summary>
    public void Apply(Stream blob, string layer)
    {
        _layer = layer;
        using var reader = new LayerReader(blob, layer, _budget, _limits, computeDiffId: false);
        string? current = null;
        try
        {
            while (reader.Next() is { } entry)
            {
                current = entry.Name;
                ApplyEntry(entry, reader);
                EntriesApplied++;
            }

            current = null;
            reader.FinishWithoutDiffId();
        }
        catch (LayerRejectedException)
        {
            throw;
        }
        catch (SymlinkEscapeException e)
        {
            throw new LayerRejectedException(layer, current, LayerRule.SymlinkEscape,
                $"{e.Message}, which leads outside the image root; writing through it would escape. Rebuild the layer so it writes real paths.", e);
        }
        catch (FileSystemOperationException e) when (e.Errno is Libc.ENOSPC or 122)
        {
            throw new LayerRejectedException(layer, current, LayerRule.NoSpace,
                $"the file system built for the image is full ({e.Message}); give it more room with --free-space.", e);
        }
        catch (Exception e)
        {
            throw reader.Translate(e, current);
        }
    }

    private void ApplyEntry(LayerEntry entry, LayerReader reader)
    {
        if (entry.Path == RootDirectory.TrashName || entry.Path.StartsWith(RootDirectory.TrashName + "/", StringComparison.Ordinal)
            || entry.LinkTarget is { } target && entry.Kind == LayerEntryKind.HardLink && (target == RootDirectory.TrashName || target.StartsWith(RootDirectory.TrashName + "/", StringComparison.Ordinal)))
        {
            throw new LayerRejectedException(_layer, entry.Name, LayerRule.UnsupportedEntry,
                $"'{RootDirectory.TrashName}' is reserved by the Slacker importer at the image root; rename it in the image.");
        }

        switch (entry.Kind)
        {
            case LayerEntryKind.Whiteout:
                WithParent(entry.Path, (dir, name) =>
                {
                    if (RootDirectory.TypeOf(dir, name, out _) != 0)
                    {
                        _root.Discard(dir, name, entry.Path);
                    }
                });
                return;
            case LayerEntryKind.Opaque:
                ApplyOpaque(entry, reader);
                return;
            case LayerEntryKind.Directory when entry.Path.Length == 0:
                ApplyMetadata(entry, -1, ".", isNew: false);
                return;
        }

        WithParent(entry.Path, (dir, name) =>
        {
            var existing = RootDirectory.TypeOf(dir, name, out _);
            if (entry.Kind == LayerEntryKind.Directory && existing == Libc.S_IFDIR)
            {
                ApplyMetadata(entry, dir, name, isNew: false);
                return;
            }

            if (entry.Kind == LayerEntryKind.HardLink)
            {
                ApplyHardLink(entry, dir, name, existing);
                return;
            }

            if (existing != 0)
            {
                _root.Discard(dir, name, entry.Path);
            }

            switch (entry.Kind)
            {
                case LayerEntryKind.Directory:
                    RootDirectory.Check(Libc.MkdirAt(dir, name, Libc.Mode0700), "mkdir", entry.Path);
                    break;
                case LayerEntryKind.File:
                    WriteFile(entry, dir, name);
                    break;
                case LayerEntryKind.Symlink:
                    RootDirectory.Check(Libc.SymlinkAt(entry.LinkTarget!, dir, name), "symlink", entry.Path);
                    break;
                case LayerEntryKind.CharDevice or LayerEntryKind.BlockDevice:
                    var type = entry.Kind == LayerEntryKind.CharDevice ? Libc.S_IFCHR : Libc.S_IFBLK;
                    var posix = (System.Formats.Tar.PosixTarEntry)entry.Tar;
                    var dev = Libc.MakeDev((uint)posix.DeviceMajor, (uint)posix.DeviceMinor);
                    RootDirectory.Check(Libc.MknodAt(dir, name, type | Libc.Mode0600, dev), "mknod", entry.Path);
                    break;
                case LayerEntryKind.Fifo:
                    RootDirectory.Check(Libc.MknodAt(dir, name, Libc.S_IFIFO | Libc.Mode0600, 0), "mkfifo", entry.Path);
                    break;
            }

            ApplyMetadata(entry, dir, name, isNew: true);
        });
    }

    private void WithParent(string path, Action<int, string> action)
    {
        var dir = _root.OpenDirectory(TarPath.Parent(path), create: true, OnImplicitDirectory);
        try
        {
            action(dir, TarPath.Name(path));
        }
        finally
        {
            Libc.Close(dir);
        }
    }

    private void OnImplicitDirectory(string path) => _directoryTimes.Remove(path);

    private void ApplyOpaque(LayerEntry entry, LayerReader reader)
    {
        var dir = _root.OpenDirectory(entry.Path, create: true, OnImplicitDirectory);
        try
        {
            foreach (var child in RootDirectory.List(dir))
            {
                var childPath = TarPath.Join(entry.Path, child);
                if (!reader.CreatedInThisLayer(childPath) && !(entry.Path.Length == 0 && child == RootDirectory.TrashName))
                {
                    _root.Discard(dir, child, childPath);
                }
            }
        }
        finally
        {
            Libc.Close(dir);
        }
    }

    private void ApplyHardLink(LayerEntry entry, int dir, string name, uint existing)
    {
        var target = entry.LinkTarget!;
        if (target == entry.Path)
        {
            throw new LayerRejectedException(_layer, entry.Name, LayerRule.HardLinkTarget, "the hard link points to itself.");
        }

        var targetDir = _root.OpenDirectory(TarPath.Parent(target), create: false);
        try
        {
            var targetType = targetDir < 0 ? 0 : RootDirectory.TypeOf(targetDir, TarPath.Name(target), out _);
            if (targetType is 0 or Libc.S_IFDIR)
            {
                throw new LayerRejectedException(_layer, entry.Name, LayerRule.HardLinkTarget,
                    targetType == 0
                        ? $"the hard link target '{target}' does not exist (or is reached through a symlink); a hard link must name a file that an earlier entry created."
                        : $"the hard link target '{target}' is a directory; directories cannot be hard-linked.");
            }

            if (existing != 0)
            {
                _root.Discard(dir, name, entry.Path);
            }

            RootDirectory.Check(Libc.LinkAt(targetDir, TarPath.Name(target), dir, name, 0), "link", entry.Path);
        }
        finally
        {
            if (targetDir >= 0)
            {
                Libc.Close(targetDir);
            }
        }
    }

    private static void WriteFile(LayerEntry entry, int dir, string name)
    {
        var fd = Libc.OpenAt(dir, name, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, Libc.Mode0600);
        if (fd < 0)
        {
            throw RootDirectory.Failure("create", entry.Path, Libc.LastErrno);
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var data = entry.Tar.DataStream;
        if (data is null || entry.Length == 0)
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long offset = 0;
            while (true)
            {
                var n = data.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                if (n == 0)
                {
                    break;
                }

                // Blocks of zeros become holes: the volume keeps them as zero chunks, which cost nothing to store or move.
                for (var start = 0; start < n; start += BlockSize)
                {
                    var block = buffer.AsSpan(start, Math.Min(BlockSize, n - start));
                    if (block.ContainsAnyExcept((byte)0))
                    {
                        RandomAccess.Write(handle, block, offset + start);
                    }
                }

                offset += n;
            }

            if (offset != entry.Length)
            {
                throw new EndOfStreamException($"the file's data ends after {offset} of {entry.Length} bytes");
            }

            RootDirectory.Check(Libc.Ftruncate(fd, entry.Length), "truncate", entry.Path);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Owner, xattrs, mode, times: in that order, because chown clears setuid bits and capabilities.</summary>
    private unsafe void ApplyMetadata(LayerEntry entry, int dir, string name, bool isNew)
    {
        var owned = false;
        if (dir < 0)
        {
            dir = _root.OpenDirectory("", create: false);
            owned = true;
        }

        try
        {
            var isSymlink = entry.Kind == LayerEntryKind.Symlink;
            RootDirectory.Check(Libc.FchownAt(dir, name, (uint)entry.Tar.Uid, (uint)entry.Tar.Gid, Libc.AT_SYMLINK_NOFOLLOW), "chown", entry.Path);
            SetXattrs(entry, dir, name, replace: !isNew);
            if (!isSymlink)
            {
                RootDirectory.Check(Libc.FchmodAt(dir, name, entry.Mode, 0), "chmod", entry.Path);
            }

            var mtime = entry.Tar.ModificationTime.ToUnixTimeMilliseconds() * 1_000_000;
            if (entry.Kind == LayerEntryKind.Directory)
            {
                _directoryTimes[entry.Path] = (mtime, mtime);
                return;
            }

            var times = stackalloc Libc.Timespec[2];
            times[0] = new Libc.Timespec { Seconds = mtime / 1_000_000_000, Nanoseconds = mtime % 1_000_000_000 };
            times[1] = times[0];
            RootDirectory.Check(Libc.UtimensAt(dir, name, times, Libc.AT_SYMLINK_NOFOLLOW), "set times", entry.Path);
        }
        finally
        {
            if (owned)
            {
                Libc.Close(dir);
            }
        }
    }

    private unsafe void SetXattrs(LayerEntry entry, int dir, string name, bool replace)
    {
        var path = Libc.ProcPath(dir, name);
        if (replace)
        {
            // A directory entry in an upper layer brings its own xattrs; overlayfs shows only those.
            foreach (var existing in Xattrs.List(path))
            {
                if (!entry.Xattrs.Any(x => x.Key == existing) && !existing.StartsWith("system.", StringComparison.Ordinal))
                {
                    Xattrs.Remove(path, existing);
                }
            }
        }

        foreach (var (key, value) in entry.Xattrs)
        {
            var errno = Xattrs.Set(path, key, value);
            if (errno is 95 or 1)
            {
                _warnings.Add($"{entry.Path}: extended attribute {key} not supported here ({Libc.ErrnoText(errno)}); skipped as docker does.");
            }
            else if (errno != 0)
            {
                throw RootDirectory.Failure($"set xattr {key} on", entry.Path, errno);
            }
        }
    }

    /// <summary>Gives every directory its final times, after all layers (creating children moved them).</summary>
    public unsafe void Finish()
    {
        _root.EmptyTrash();
        var times = stackalloc Libc.Timespec[2];
        var stack = new Stack<string>();
        stack.Push("");
        while (stack.Count > 0)
        {
            var path = stack.Pop();
            var fd = _root.OpenDirectory(path, create: false);
            try
            {
                foreach (var child in RootDirectory.List(fd))
                {
                    if (RootDirectory.TypeOf(fd, child, out _) == Libc.S_IFDIR)
                    {
                        stack.Push(TarPath.Join(path, child));
                    }
                }

                var (atime, mtime) = _directoryTimes.GetValueOrDefault(path);
                times[0] = new Libc.Timespec { Seconds = atime / 1_000_000_000, Nanoseconds = atime % 1_000_000_000 };
                times[1] = new Libc.Timespec { Seconds = mtime / 1_000_000_000, Nanoseconds = mtime % 1_000_000_000 };
                RootDirectory.Check(Libc.UtimensAt(fd, ".", times, 0), "set times", path.Length == 0 ? "/" : path);
            }
            finally
            {
                Libc.Close(fd);
            }
        }
    }

    public void Dispose() => _root.Dispose();
}
