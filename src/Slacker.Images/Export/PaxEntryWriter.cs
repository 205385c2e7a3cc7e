using System.Formats.Tar;
using System.Globalization;
using System.Text;

namespace Slacker.Images.Export;

/// <summary>
/// Writes tar entries by hand: for each, a PAX 'x' header (path, linkpath, size, mtime, large ids and raw
/// SCHILY.xattr records), then a ustar header and the data. System.Formats.Tar cannot be used here for two
/// reasons: it writes PAX values only as UTF-8 text (binary xattrs such as file capabilities would be
/// mangled), and it names every extended header after the writing process's id ("PaxHeaders.PID"), so the
/// same tree written by two processes would give two digests.
/// </summary>
internal static class PaxEntryWriter
{
    private const int Block = 512;
    private const long MaxOctal7 = 0x1FFFFF;
    private const long MaxOctal11 = 0x1FFFFFFFF;

    /// <summary>Writes <paramref name="entry"/>'s metadata, <paramref name="xattrs"/> and, for a regular file, <paramref name="data"/>.</summary>
    public static void Write(Stream output, PaxTarEntry entry, IEnumerable<KeyValuePair<string, byte[]>> xattrs, Stream? data)
    {
        var size = entry.EntryType == TarEntryType.RegularFile ? data?.Length ?? 0 : 0;
        var link = string.IsNullOrEmpty(entry.LinkName) ? null : entry.LinkName;
        var records = new MemoryStream();
        Record(records, "path", Encoding.UTF8.GetBytes(entry.Name));
        if (link is not null)
        {
            Record(records, "linkpath", Encoding.UTF8.GetBytes(link));
        }

        Record(records, "size", Ascii(size.ToString(CultureInfo.InvariantCulture)));
        Record(records, "mtime", Ascii(Seconds(entry.ModificationTime)));
        if (entry.Uid > MaxOctal7)
        {
            Record(records, "uid", Ascii(entry.Uid.ToString(CultureInfo.InvariantCulture)));
        }

        if (entry.Gid > MaxOctal7)
        {
            Record(records, "gid", Ascii(entry.Gid.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (var (key, value) in xattrs)
        {
            Record(records, "SCHILY.xattr." + key, value);
        }

        var pax = records.ToArray();
        output.Write(Header("PaxHeader", 0x1A4u, 0, 0, pax.Length, 0, 'x', "", 0, 0));
        output.Write(pax);
        Pad(output, pax.Length);

        var flag = entry.EntryType switch
        {
            TarEntryType.RegularFile => '0',
            TarEntryType.HardLink => '1',
            TarEntryType.SymbolicLink => '2',
            TarEntryType.CharacterDevice => '3',
            TarEntryType.BlockDevice => '4',
            TarEntryType.Directory => '5',
            TarEntryType.Fifo => '6',
            var other => throw new ArgumentException($"{entry.Name}: a layer cannot hold a {other} entry.", nameof(entry)),
        };
        output.Write(Header(
            entry.Name, (uint)entry.Mode, Math.Min(entry.Uid, MaxOctal7), Math.Min(entry.Gid, MaxOctal7), Math.Min(size, MaxOctal11),
            Math.Clamp(entry.ModificationTime.ToUnixTimeSeconds(), 0, MaxOctal11), flag, link ?? "", entry.DeviceMajor, entry.DeviceMinor));
        if (size > 0)
        {
            var copied = CopyExactly(data!, output, size);
            if (copied != size)
            {
                throw new IOException($"{entry.Name} changed size while it was written into the layer ({size} bytes expected, {copied} read).");
            }

            Pad(output, size);
        }
    }

    /// <summary>The two zero blocks that end an archive.</summary>
    public static void WriteEnd(Stream output) => output.Write(new byte[2 * Block]);

    private static long CopyExactly(Stream data, Stream output, long size)
    {
        var buffer = new byte[1 << 16];
        long copied = 0;
        while (copied < size)
        {
            var n = data.Read(buffer, 0, (int)Math.Min(buffer.Length, size - copied));
            if (n == 0)
            {
                break;
            }

            output.Write(buffer, 0, n);
            copied += n;
        }

        return copied;
    }

    /// <summary>Seconds since 1970, with the fraction (to the 100 ns .NET keeps) only when there is one.</summary>
    private static string Seconds(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var fraction);
        if (fraction < 0)
        {
            seconds--;
            fraction += TimeSpan.TicksPerSecond;
        }

        return fraction == 0
            ? seconds.ToString(CultureInfo.InvariantCulture)
            : seconds.ToString(CultureInfo.InvariantCulture) + "." + fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static void Pad(Stream output, long length)
    {
        var pad = (int)((Block - (length % Block)) % Block);
        output.Write(new byte[pad]);
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

        records.Write(Ascii(length.ToString(CultureInfo.InvariantCulture) + " "));
        records.Write(Encoding.UTF8.GetBytes(key + "="));
        records.Write(value);
        records.WriteByte((byte)'\n');
    }

    /// <summary>A ustar header; names and link names longer than the field are cut, the PAX records carry them whole.</summary>
    private static byte[] Header(string name, uint mode, long uid, long gid, long size, long mtime, char type, string link, int major, int minor)
    {
        var h = new byte[Block];
        Field(h, 0, 100, name);
        Octal(h, 100, 8, mode);
        Octal(h, 108, 8, uid);
        Octal(h, 116, 8, gid);
        Octal(h, 124, 12, size);
        Octal(h, 136, 12, mtime);
        h[156] = (byte)type;
        Field(h, 157, 100, link);
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

    private static void Field(byte[] header, int offset, int width, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes.AsSpan(0, Math.Min(width, bytes.Length)).CopyTo(header.AsSpan(offset));
    }

    private static void Octal(byte[] header, int offset, int width, long value) =>
        Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(width - 1, '0') + "\0").CopyTo(header, offset);
}
