using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Slacker.Images.Native;

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
        catch (FileSystemOperationException e) when (e.Errno is Sys.ENOSPC or 122)
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
            if (entry.Kind == LayerEntryKind.Directory && existing == Sys.S_IFDIR)
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
                    RootDirectory.Check(Sys.MkdirAt(dir, name, Sys.Mode0700), "mkdir", entry.Path);
                    break;
                case LayerEntryKind.File:
                    WriteFile(entry, dir, name);
                    break;
                case LayerEntryKind.Symlink:
                    RootDirectory.Check(Sys.SymlinkAt(entry.LinkTarget!, dir, name), "symlink", entry.Path);
                    break;
                case LayerEntryKind.CharDevice or LayerEntryKind.BlockDevice:
                    var type = entry.Kind == LayerEntryKind.CharDevice ? Sys.S_IFCHR : Sys.S_IFBLK;
                    var posix = (System.Formats.Tar.PosixTarEntry)entry.Tar;
                    var dev = Sys.MakeDev((uint)posix.DeviceMajor, (uint)posix.DeviceMinor);
                    RootDirectory.Check(Sys.MknodAt(dir, name, type | Sys.Mode0600, dev), "mknod", entry.Path);
                    break;
                case LayerEntryKind.Fifo:
                    RootDirectory.Check(Sys.MknodAt(dir, name, Sys.S_IFIFO | Sys.Mode0600, 0), "mkfifo", entry.Path);
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
            Sys.Close(dir);
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
            Sys.Close(dir);
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
            if (targetType is 0 or Sys.S_IFDIR)
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

            RootDirectory.Check(Sys.LinkAt(targetDir, TarPath.Name(target), dir, name, 0), "link", entry.Path);
        }
        finally
        {
            if (targetDir >= 0)
            {
                Sys.Close(targetDir);
            }
        }
    }

    private static void WriteFile(LayerEntry entry, int dir, string name)
    {
        var fd = Sys.OpenAt(dir, name, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, Sys.Mode0600);
        if (fd < 0)
        {
            throw RootDirectory.Failure("create", entry.Path, Sys.LastError);
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

            RootDirectory.Check(Sys.Ftruncate(fd, entry.Length), "truncate", entry.Path);
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
            RootDirectory.Check(Sys.FchownAt(dir, name, (uint)entry.Tar.Uid, (uint)entry.Tar.Gid, Sys.AT_SYMLINK_NOFOLLOW), "chown", entry.Path);
            SetXattrs(entry, dir, name, replace: !isNew);
            if (!isSymlink)
            {
                RootDirectory.Check(Sys.FchmodAt(dir, name, entry.Mode, 0), "chmod", entry.Path);
            }

            var mtime = entry.Tar.ModificationTime.ToUnixTimeMilliseconds() * 1_000_000;
            if (entry.Kind == LayerEntryKind.Directory)
            {
                _directoryTimes[entry.Path] = (mtime, mtime);
                return;
            }

            var times = stackalloc Sys.Timespec[2];
            times[0] = new Sys.Timespec { Seconds = mtime / 1_000_000_000, Nanoseconds = mtime % 1_000_000_000 };
            times[1] = times[0];
            RootDirectory.Check(Sys.UtimensAt(dir, name, times, Sys.AT_SYMLINK_NOFOLLOW), "set times", entry.Path);
        }
        finally
        {
            if (owned)
            {
                Sys.Close(dir);
            }
        }
    }

    private unsafe void SetXattrs(LayerEntry entry, int dir, string name, bool replace)
    {
        var path = Sys.ProcPath(dir, name);
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
                _warnings.Add($"{entry.Path}: extended attribute {key} not supported here ({Sys.Describe(errno)}); skipped as docker does.");
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
        var times = stackalloc Sys.Timespec[2];
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
                    if (RootDirectory.TypeOf(fd, child, out _) == Sys.S_IFDIR)
                    {
                        stack.Push(TarPath.Join(path, child));
                    }
                }

                var (atime, mtime) = _directoryTimes.GetValueOrDefault(path);
                times[0] = new Sys.Timespec { Seconds = atime / 1_000_000_000, Nanoseconds = atime % 1_000_000_000 };
                times[1] = new Sys.Timespec { Seconds = mtime / 1_000_000_000, Nanoseconds = mtime % 1_000_000_000 };
                RootDirectory.Check(Sys.UtimensAt(fd, ".", times, 0), "set times", path.Length == 0 ? "/" : path);
            }
            finally
            {
                Sys.Close(fd);
            }
        }
    }

    public void Dispose() => _root.Dispose();
}
