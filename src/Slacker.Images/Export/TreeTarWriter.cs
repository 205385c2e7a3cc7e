using System.Formats.Tar;
using Slacker.Native;

namespace Slacker.Images.Export;

/// <summary>
/// Writes a directory tree as one layer tar, as docker's own diff writer would: PAX format, entries sorted by
/// name with each directory before its children, owners, modes, mtimes, symlinks, hard links (later paths of
/// an inode link to the first), devices, fifos and xattrs (binary ones too), and no user or group names. The
/// bytes depend on the tree alone (<see cref="PaxEntryWriter"/>). What else happens, such as clamped mtimes for
/// reproducible layers or overlay whiteouts, is chosen by <see cref="TreeTarOptions"/>.
/// </summary>
public sealed class TreeTarWriter
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const int Mode0644 = 0x1A4;
    private const int Mode0755 = 0x1ED;
    private const int Mode0777 = 0x1FF;

    private readonly Stream _output;
    private readonly TreeTarOptions _options;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<(ulong Device, ulong Inode), string> _firstPathOfInode = [];
    private readonly long? _epochSeconds;

    private TreeTarWriter(Stream output, TreeTarOptions options, CancellationToken cancellationToken)
    {
        _output = output;
        _options = options;
        _cancellationToken = cancellationToken;
        _epochSeconds = options.Epoch?.ToUnixTimeSeconds();
    }

    private int Entries { get; set; }

    /// <summary>Writes every entry under <paramref name="root"/> (not the root itself) and the end-of-archive blocks; returns how many entries.</summary>
    public static int Write(string root, Stream output, TreeTarOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TreeTarOptions();
        if (options.Normalize && options.Epoch is null)
        {
            throw new ArgumentException("Normalize sets every mtime to the epoch, so it needs an Epoch.", nameof(options));
        }

        var writer = new TreeTarWriter(output, options, cancellationToken);
        writer.WriteTree(root);
        PaxEntryWriter.WriteEnd(output);
        return writer.Entries;
    }

    private void WriteTree(string root)
    {
        var tarDir = string.Empty;
        if (!string.IsNullOrEmpty(_options.Prefix))
        {
            foreach (var part in _options.Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                tarDir += part + "/";
                WriteSynthetic(TarEntryType.Directory, tarDir, Mode0755);
            }
        }

        WalkDirectory(root, tarDir);
    }

    private void WalkDirectory(string directory, string tarDir)
    {
        var names = Directory.EnumerateFileSystemEntries(directory).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Join(directory, name);
            var st = UnixFile.LStat(path);
            var xattrs = _options.Normalize ? new SortedDictionary<string, byte[]>(StringComparer.Ordinal) : Xattrs.ReadAll(path);
            var tarName = tarDir + name;

            if (_options.OverlayUpper)
            {
                OverlayUpper.RejectIncomplete(path, xattrs);
                if (OverlayUpper.IsWhiteout(st, xattrs))
                {
                    WriteSynthetic(TarEntryType.RegularFile, tarDir + WhiteoutPrefix + name, Mode0644);
                    continue;
                }
            }

            switch (EntryType(st.Type))
            {
                case TarEntryType.Directory:
                    Write(TarEntryType.Directory, tarName + "/", st, xattrs, path);
                    if (_options.OverlayUpper && OverlayUpper.IsOpaque(xattrs))
                    {
                        // Right after its directory, before any child, as OCI appliers expect.
                        WriteSynthetic(TarEntryType.RegularFile, tarName + "/" + OpaqueMarker, Mode0644);
                    }

                    WalkDirectory(path, tarName + "/");
                    break;
                case TarEntryType.RegularFile when st.Nlink > 1 && TryHardLink(st, tarName, path, xattrs):
                    break;
                case { } type:
                    Write(type, tarName, st, xattrs, path);
                    break;
                case null when _options.SkipSockets:
                    _options.Warn?.Invoke($"skipped {path}: sockets cannot be stored in a layer.");
                    break;
                case null:
                    throw new IOException($"{path} is a socket; image layers cannot hold sockets.");
            }
        }
    }

    /// <summary>The tar entry type of an inode type; null for a socket, which a layer cannot hold.</summary>
    private static TarEntryType? EntryType(uint inodeType) => inodeType switch
    {
        Libc.S_IFDIR => TarEntryType.Directory,
        Libc.S_IFREG => TarEntryType.RegularFile,
        Libc.S_IFLNK => TarEntryType.SymbolicLink,
        Libc.S_IFCHR => TarEntryType.CharacterDevice,
        Libc.S_IFBLK => TarEntryType.BlockDevice,
        Libc.S_IFIFO => TarEntryType.Fifo,
        _ => null,
    };

    private bool TryHardLink(in Statx st, string tarName, string path, SortedDictionary<string, byte[]> xattrs)
    {
        var key = (((ulong)st.DevMajor << 32) | st.DevMinor, st.Ino);
        if (_firstPathOfInode.TryGetValue(key, out var first))
        {
            Write(TarEntryType.HardLink, tarName, st, xattrs, path, linkTarget: first);
            return true;
        }

        _firstPathOfInode[key] = tarName;
        return false;
    }

    private void Write(TarEntryType type, string name, in Statx st, SortedDictionary<string, byte[]> xattrs, string path, string? linkTarget = null)
    {
        var kept = xattrs.Where(x => !(_options.OverlayUpper && OverlayUpper.IsPrivate(x.Key)));
        var entry = new PaxTarEntry(type, name);
        if (_options.Normalize)
        {
            entry.Mode = (UnixFileMode)(type switch
            {
                TarEntryType.Directory => Mode0755,
                TarEntryType.SymbolicLink => Mode0777,
                _ => Mode0644,
            });
            entry.ModificationTime = _options.Epoch!.Value;
        }
        else
        {
            entry.Mode = (UnixFileMode)(st.Mode & 0xFFF);
            entry.Uid = checked((int)st.Uid);
            entry.Gid = checked((int)st.Gid);
            entry.ModificationTime = _epochSeconds is { } epoch
                ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(st.MtimeSeconds, 0, epoch))
                : DateTimeOffset.FromUnixTimeSeconds(st.MtimeSeconds).AddTicks(st.MtimeNanoseconds / 100);
        }

        switch (type)
        {
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                entry.DeviceMajor = checked((int)st.RdevMajor);
                entry.DeviceMinor = checked((int)st.RdevMinor);
                break;
            case TarEntryType.SymbolicLink:
                entry.LinkName = new FileInfo(path).LinkTarget ?? throw new IOException($"cannot read symlink {path}.");
                break;
            case TarEntryType.HardLink:
                entry.LinkName = linkTarget!;
                break;
        }

        using var data = type == TarEntryType.RegularFile
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan)
            : null;
        PaxEntryWriter.Write(_output, entry, kept, data);
        Entries++;
    }

    private void WriteSynthetic(TarEntryType type, string name, int mode)
    {
        var entry = new PaxTarEntry(type, name)
        {
            Mode = (UnixFileMode)mode,
            ModificationTime = _options.Epoch ?? DateTimeOffset.UnixEpoch,
        };
        PaxEntryWriter.Write(_output, entry, [], null);
        Entries++;
    }
}
