using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Slacker.Images.Tests.Support;

/// <summary>Builds layer tarballs entry by entry with System.Formats.Tar (PAX), like docker's own layers.</summary>
public sealed class LayerBuilder
{
    public static readonly DateTimeOffset Time = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<Action<TarWriter>> _entries = [];
    private readonly List<(byte[] Placeholder, byte[] Value)> _patches = [];

    /// <summary>VFS_CAP_REVISION_2 cap_net_raw+ep: a binary xattr value that is not valid UTF-8.</summary>
    public static readonly byte[] NetRawCapability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];

    /// <summary>A file with a binary xattr: written with a same-length ASCII placeholder, patched into the tar bytes (PAX data is not checksummed).</summary>
    public LayerBuilder FileWithBinaryXattr(string name, string content, string xattr, byte[] value, int mode = 0x1ED)
    {
        var placeholder = Encoding.ASCII.GetBytes(Guid.NewGuid().ToString("N").PadRight(value.Length, 'Q')[..value.Length]);
        _patches.Add((placeholder, value));
        return File(name, content, mode, xattrs: new Dictionary<string, string> { [xattr] = Encoding.ASCII.GetString(placeholder) });
    }

    public LayerBuilder Dir(string name, int mode = 0x1ED, int uid = 0, int gid = 0, IReadOnlyDictionary<string, string>? xattrs = null) =>
        Add(TarEntryType.Directory, name, mode, uid, gid, null, null, xattrs);

    public LayerBuilder File(string name, string content, int mode = 0x1A4, int uid = 0, int gid = 0, IReadOnlyDictionary<string, string>? xattrs = null) =>
        File(name, Encoding.UTF8.GetBytes(content), mode, uid, gid, xattrs);

    public LayerBuilder File(string name, byte[] content, int mode = 0x1A4, int uid = 0, int gid = 0, IReadOnlyDictionary<string, string>? xattrs = null) =>
        Add(TarEntryType.RegularFile, name, mode, uid, gid, null, content, xattrs);

    public LayerBuilder Symlink(string name, string target, int uid = 0, int gid = 0) =>
        Add(TarEntryType.SymbolicLink, name, 0x1FF, uid, gid, target, null, null);

    public LayerBuilder HardLink(string name, string target, int mode = 0x1A4, int uid = 0, int gid = 0) =>
        Add(TarEntryType.HardLink, name, mode, uid, gid, target, null, null);

    public LayerBuilder Whiteout(string path)
    {
        var slash = path.LastIndexOf('/');
        var name = slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..];
        return File(name, "");
    }

    public LayerBuilder Opaque(string dir) => File(dir.TrimEnd('/') + "/.wh..wh..opq", "");

    public LayerBuilder Fifo(string name, int mode = 0x1A4) => Add(TarEntryType.Fifo, name, mode, 0, 0, null, null, null);

    public LayerBuilder CharDevice(string name, int major, int minor, int mode = 0x1B6) =>
        AddRaw(w =>
        {
            var entry = new PaxTarEntry(TarEntryType.CharacterDevice, name) { Mode = (UnixFileMode)mode, DeviceMajor = major, DeviceMinor = minor, ModificationTime = Time };
            w.WriteEntry(entry);
        });

    /// <summary>Anything else, e.g. a hand-made hostile entry.</summary>
    public LayerBuilder AddRaw(Action<TarWriter> write)
    {
        _entries.Add(write);
        return this;
    }

    private LayerBuilder Add(TarEntryType type, string name, int mode, int uid, int gid, string? link, byte[]? content, IReadOnlyDictionary<string, string>? xattrs)
    {
        _entries.Add(w =>
        {
            var attributes = xattrs?.ToDictionary(kv => "SCHILY.xattr." + kv.Key, kv => kv.Value);
            var entry = attributes is null ? new PaxTarEntry(type, name) : new PaxTarEntry(type, name, attributes);
            entry.Mode = (UnixFileMode)mode;
            entry.Uid = uid;
            entry.Gid = gid;
            entry.ModificationTime = Time;
            if (link is not null)
            {
                entry.LinkName = link;
            }

            if (content is not null)
            {
                entry.DataStream = new MemoryStream(content);
            }

            w.WriteEntry(entry);
        });
        return this;
    }

    public byte[] Tar()
    {
        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var write in _entries)
            {
                write(writer);
            }
        }

        var tar = output.ToArray();
        foreach (var (placeholder, value) in _patches)
        {
            tar = RawTar.Patch(tar, placeholder, value);
        }

        return tar;
    }

    public byte[] Gzip() => Compress.Gzip(Tar());

    public byte[] Zstd() => Compress.Zstd(Tar());
}

public static class Compress
{
    public static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static byte[] Zstd(byte[] data)
    {
        using var compressor = new ZstdSharp.Compressor(3);
        return compressor.Wrap(data).ToArray();
    }
}
