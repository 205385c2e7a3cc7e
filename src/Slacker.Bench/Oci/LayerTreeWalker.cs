using System.Formats.Tar;
using System.Text;
using Slacker.Bench.Native;

namespace Slacker.Bench.Oci;

/// <summary>Walks one directory tree in a fixed order and writes each inode as a PAX tar entry.</summary>
internal sealed class LayerTreeWalker(TarWriter tar, LayerOptions options, CancellationToken cancellationToken)
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const string XattrPaxPrefix = "SCHILY.xattr.";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Dictionary<(ulong Device, ulong Inode), string> _firstPathOfInode = [];
    private readonly long _epochSeconds = options.Epoch.ToUnixTimeSeconds();

    public int Entries { get; private set; }

    public void WriteTree(string root)
    {
        var tarDir = string.Empty;
        if (!string.IsNullOrEmpty(options.Prefix))
        {
            foreach (var part in options.Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                tarDir += part + "/";
                WriteSynthetic(TarEntryType.Directory, tarDir, 0x1ED);
            }
        }

        WalkDirectory(root, tarDir);
    }

    private void WalkDirectory(string directory, string tarDir)
    {
        var names = Directory.EnumerateFileSystemEntries(directory)
            .Select(p => Path.GetFileName(p))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Join(directory, name);
            var st = UnixFile.LStat(path);
            var xattrs = options.Normalize ? [] : UnixFile.ListXattrs(path);
            var tarName = tarDir + name;

            if (options.OverlayUpper)
            {
                RejectUnsupportedOverlayFeatures(path, xattrs);
                if (IsWhiteout(st, xattrs))
                {
                    WriteSynthetic(TarEntryType.RegularFile, tarDir + WhiteoutPrefix + name, 0x1A4);
                    continue;
                }
            }

            switch (st.FileType)
            {
                case Statx.TypeDirectory:
                    var opaque = options.OverlayUpper && IsOpaque(xattrs);
                    Write(TarEntryType.Directory, tarName + "/", st, xattrs, path);
                    if (opaque)
                    {
                        // Right after its directory, before any child, as OCI appliers expect.
                        WriteSynthetic(TarEntryType.RegularFile, tarName + "/" + OpaqueMarker, 0x1A4);
                    }

                    WalkDirectory(path, tarName + "/");
                    break;
                case Statx.TypeRegular:
                    if (st.NLink > 1 && TryHardLink(st, tarName, path, xattrs))
                    {
                        break;
                    }

                    Write(TarEntryType.RegularFile, tarName, st, xattrs, path);
                    break;
                case Statx.TypeSymlink:
                    Write(TarEntryType.SymbolicLink, tarName, st, xattrs, path);
                    break;
                case Statx.TypeCharDevice:
                    Write(TarEntryType.CharacterDevice, tarName, st, xattrs, path);
                    break;
                case Statx.TypeBlockDevice:
                    Write(TarEntryType.BlockDevice, tarName, st, xattrs, path);
                    break;
                case Statx.TypeFifo:
                    Write(TarEntryType.Fifo, tarName, st, xattrs, path);
                    break;
                default:
                    options.Warn?.Invoke($"skipped {path}: sockets cannot be stored in a layer.");
                    break;
            }
        }
    }

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
        var entry = new PaxTarEntry(type, name, PaxXattrs(path, xattrs));
        if (options.Normalize)
        {
            entry.Mode = (UnixFileMode)(type switch
            {
                TarEntryType.Directory => 0x1ED,
                TarEntryType.SymbolicLink => 0x1FF,
                _ => 0x1A4,
            });
            entry.ModificationTime = options.Epoch;
        }
        else
        {
            entry.Mode = (UnixFileMode)st.Permissions;
            entry.Uid = checked((int)st.Uid);
            entry.Gid = checked((int)st.Gid);
            entry.ModificationTime = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(st.MtimeSeconds, 0, _epochSeconds));
        }

        entry.UserName = string.Empty;
        entry.GroupName = string.Empty;
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

        if (type == TarEntryType.RegularFile)
        {
            using var data = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            entry.DataStream = data;
            tar.WriteEntry(entry);
        }
        else
        {
            tar.WriteEntry(entry);
        }

        Entries++;
    }

    private void WriteSynthetic(TarEntryType type, string name, int mode)
    {
        var entry = new PaxTarEntry(type, name)
        {
            Mode = (UnixFileMode)mode,
            ModificationTime = options.Epoch,
            UserName = string.Empty,
            GroupName = string.Empty,
        };
        tar.WriteEntry(entry);
        Entries++;
    }

    private Dictionary<string, string> PaxXattrs(string path, SortedDictionary<string, byte[]> xattrs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in xattrs)
        {
            if (IsOverlayPrivate(name))
            {
                continue;
            }

            try
            {
                result[XattrPaxPrefix + name] = StrictUtf8.GetString(value);
            }
            catch (DecoderFallbackException)
            {
                // PAX records are UTF-8 text in System.Formats.Tar; a binary value would be mangled, so it is left out loudly.
                options.Warn?.Invoke($"dropped xattr {name} of {path}: its value is not UTF-8, which System.Formats.Tar cannot store.");
            }
        }

        return result;
    }

    private static bool IsOverlayPrivate(string name) =>
        name.StartsWith("trusted.overlay.", StringComparison.Ordinal) || name.StartsWith("user.overlay.", StringComparison.Ordinal);

    private static bool IsWhiteout(in Statx st, SortedDictionary<string, byte[]> xattrs) =>
        (st.FileType == Statx.TypeCharDevice && st.RdevMajor == 0 && st.RdevMinor == 0)
        || (st.FileType == Statx.TypeRegular && (xattrs.ContainsKey("trusted.overlay.whiteout") || xattrs.ContainsKey("user.overlay.whiteout")));

    private static bool IsOpaque(SortedDictionary<string, byte[]> xattrs) =>
        (xattrs.TryGetValue("trusted.overlay.opaque", out var v) || xattrs.TryGetValue("user.overlay.opaque", out v))
        && v.AsSpan().SequenceEqual("y"u8);

    private static void RejectUnsupportedOverlayFeatures(string path, SortedDictionary<string, byte[]> xattrs)
    {
        foreach (var name in xattrs.Keys)
        {
            if (name.EndsWith(".overlay.redirect", StringComparison.Ordinal) || name.EndsWith(".overlay.metacopy", StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"{path} carries {name}: the upper dir was made with redirect_dir or metacopy on, so it does not hold the whole change. Mount the overlay with redirect_dir=off,metacopy=off.");
            }
        }
    }
}
