using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Slacker.Images.Layers;
using Slacker.Images.Native;

namespace Slacker.Images.Export;

/// <summary>
/// Writes a directory tree (a mounted image file system) as one layer tar, as docker's own diff writer
/// would: PAX format, owners, modes, mtimes, symlinks, hard links (the second path of an inode links to the
/// first), devices, fifos and xattrs. Entries whose xattrs are binary (file capabilities) get a hand-written
/// PAX header, because System.Formats.Tar can only write PAX values as UTF-8 text.
/// </summary>
public sealed class TreeTarWriter : IDisposable
{
    private const int Block = 512;

    private readonly Stream _output;
    private readonly TarWriter _writer;
    private readonly Dictionary<ulong, string> _firstPathOfInode = [];

    private TreeTarWriter(Stream output)
    {
        _output = output;
        _writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
    }

    /// <summary>Writes every entry under <paramref name="root"/> (not the root itself) and the end-of-archive blocks.</summary>
    public static void Write(string root, Stream output)
    {
        using var writer = new TreeTarWriter(output);
        writer.WriteDirectory(root, "");
    }

    public void Dispose() => _writer.Dispose();

    private void WriteDirectory(string root, string relative)
    {
        var full = relative.Length == 0 ? root : Path.Combine(root, relative);
        var names = Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            var path = TarPath.Join(relative, name!);
            var type = WriteEntry(root, path);
            if (type == Sys.S_IFDIR)
            {
                WriteDirectory(root, path);
            }
        }
    }

    private uint WriteEntry(string root, string path)
    {
        var full = Path.Combine(root, path);
        if (Sys.StatxAt(Sys.AT_FDCWD, full, Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_BASIC_STATS, out var st) != 0)
        {
            throw new IOException($"statx {full}: {Sys.Describe(Sys.LastError)}");
        }

        var xattrs = Xattrs.List(full).Select(n => (Name: n, Value: Xattrs.Get(full, n) ?? [])).ToList();
        var binary = xattrs.Any(x => !IsText(x.Value));
        var type = st.Type;
        TarEntryType entryType;
        string? link = null;
        if (type == Sys.S_IFREG && st.Nlink > 1 && _firstPathOfInode.TryGetValue(st.Ino, out var first))
        {
            entryType = TarEntryType.HardLink;
            link = first;
        }
        else
        {
            entryType = type switch
            {
                Sys.S_IFDIR => TarEntryType.Directory,
                Sys.S_IFREG => TarEntryType.RegularFile,
                Sys.S_IFLNK => TarEntryType.SymbolicLink,
                Sys.S_IFCHR => TarEntryType.CharacterDevice,
                Sys.S_IFBLK => TarEntryType.BlockDevice,
                Sys.S_IFIFO => TarEntryType.Fifo,
                _ => throw new IOException($"{full} is a socket; image layers cannot hold sockets."),
            };
            if (type == Sys.S_IFREG && st.Nlink > 1)
            {
                _firstPathOfInode[st.Ino] = path;
            }

            if (type == Sys.S_IFLNK)
            {
                link = new FileInfo(full).LinkTarget;
            }
        }

        var name = entryType == TarEntryType.Directory ? path + "/" : path;
        var size = entryType == TarEntryType.RegularFile ? (long)st.Size : 0;
        if (binary)
        {
            WriteRawEntry(full, name, entryType, st, link, xattrs, size);
            return type;
        }

        var attributes = xattrs.ToDictionary(x => "SCHILY.xattr." + x.Name, x => Encoding.UTF8.GetString(x.Value));
        var entry = new PaxTarEntry(entryType, name, attributes)
        {
            Mode = (UnixFileMode)(st.Mode & 0xFFF),
            Uid = (int)st.Uid,
            Gid = (int)st.Gid,
            ModificationTime = DateTimeOffset.FromUnixTimeSeconds(st.MtimeSeconds).AddTicks(st.MtimeNanoseconds / 100),
        };
        if (link is not null)
        {
            entry.LinkName = link;
        }

        if (entryType is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
        {
            entry.DeviceMajor = (int)st.RdevMajor;
            entry.DeviceMinor = (int)st.RdevMinor;
        }

        if (entryType == TarEntryType.RegularFile)
        {
            using var data = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            entry.DataStream = data;
            _writer.WriteEntry(entry);
        }
        else
        {
            _writer.WriteEntry(entry);
        }

        return type;
    }

    private static bool IsText(byte[] value)
    {
        if (value.AsSpan().Contains((byte)0))
        {
            return false;
        }

        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>A PAX 'x' header with raw records (path, linkpath, xattrs), then a ustar header and the data.</summary>
    private void WriteRawEntry(string full, string name, TarEntryType type, Sys.Statx st, string? link, List<(string Name, byte[] Value)> xattrs, long size)
    {
        var records = new MemoryStream();
        Record(records, "path", Encoding.UTF8.GetBytes(name));
        if (link is not null)
        {
            Record(records, "linkpath", Encoding.UTF8.GetBytes(link));
        }

        Record(records, "size", Encoding.ASCII.GetBytes(size.ToString(CultureInfo.InvariantCulture)));
        foreach (var (key, value) in xattrs)
        {
            Record(records, "SCHILY.xattr." + key, value);
        }

        var pax = records.ToArray();
        _output.Write(Header("PaxHeader", 0x1A4u, 0, 0, pax.Length, 0, 'x', "", 0, 0));
        _output.Write(pax);
        Pad(pax.Length);

        var flag = type switch
        {
            TarEntryType.RegularFile => '0',
            TarEntryType.HardLink => '1',
            TarEntryType.SymbolicLink => '2',
            TarEntryType.CharacterDevice => '3',
            TarEntryType.BlockDevice => '4',
            TarEntryType.Directory => '5',
            _ => '6',
        };
        var shortName = name.Length <= 99 ? name : name[^99..];
        var shortLink = link is null ? "" : link.Length <= 99 ? link : link[^99..];
        _output.Write(Header(shortName, (uint)(st.Mode & 0xFFF), st.Uid, st.Gid, Math.Min(size, 0x1FFFFFFFF), st.MtimeSeconds, flag, shortLink, st.RdevMajor, st.RdevMinor));
        if (type == TarEntryType.RegularFile)
        {
            using var data = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            data.CopyTo(_output);
            Pad(size);
        }
    }

    private void Pad(long length)
    {
        var pad = (int)((Block - (length % Block)) % Block);
        _output.Write(new byte[pad]);
    }

    private static void Record(Stream records, string key, byte[] value)
    {
        // "LEN key=value\n", where LEN counts its own digits.
        var body = 1 + Encoding.UTF8.GetByteCount(key) + 1 + value.Length + 1;
        var length = body + 1;
        while (length != body + length.ToString(CultureInfo.InvariantCulture).Length)
        {
            length = body + length.ToString(CultureInfo.InvariantCulture).Length;
        }

        records.Write(Encoding.ASCII.GetBytes(length.ToString(CultureInfo.InvariantCulture) + " "));
        records.Write(Encoding.UTF8.GetBytes(key + "="));
        records.Write(value);
        records.WriteByte((byte)'\n');
    }

    private static byte[] Header(string name, uint mode, uint uid, uint gid, long size, long mtime, char type, string link, uint major, uint minor)
    {
        var h = new byte[Block];
        Encoding.UTF8.GetBytes(name).AsSpan(0, Math.Min(100, Encoding.UTF8.GetByteCount(name))).CopyTo(h);
        Octal(h, 100, 8, mode);
        Octal(h, 108, 8, uid);
        Octal(h, 116, 8, gid);
        Octal(h, 124, 12, size);
        Octal(h, 136, 12, Math.Max(0, mtime));
        h[156] = (byte)type;
        var linkBytes = Encoding.UTF8.GetBytes(link);
        linkBytes.AsSpan(0, Math.Min(100, linkBytes.Length)).CopyTo(h.AsSpan(157));
        "ustar\0"u8.CopyTo(h.AsSpan(257));
        "00"u8.CopyTo(h.AsSpan(263));
        Octal(h, 329, 8, major);
        Octal(h, 337, 8, minor);
        h.AsSpan(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in h)
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(h, 148);
        return h;
    }

    private static void Octal(byte[] header, int offset, int width, long value) =>
        Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(width - 1, '0') + "\0").CopyTo(header, offset);
}
