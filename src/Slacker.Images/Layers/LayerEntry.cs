using System.Formats.Tar;

namespace Slacker.Images.Layers;

public enum LayerEntryKind
{
    Directory,
    File,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// <summary><c>.wh.NAME</c>: NAME in the lower layers is deleted.</summary>
    Whiteout,
    /// <summary><c>.wh..wh..opq</c>: the lower layers' children of this directory are hidden.</summary>
    Opaque,
}

/// <summary>One validated tar entry: its normalised path and what it asks for.</summary>
public sealed class LayerEntry
{
    internal LayerEntry(TarEntry tar, string name, string path, LayerEntryKind kind, string? linkTarget, IReadOnlyList<KeyValuePair<string, byte[]>> xattrs)
    {
        Tar = tar;
        Name = name;
        Path = path;
        Kind = kind;
        LinkTarget = linkTarget;
        Xattrs = xattrs;
    }

    public TarEntry Tar { get; }

    /// <summary>The name exactly as in the tar header, for messages.</summary>
    public string Name { get; }

    /// <summary>Normalised path; for a whiteout the path it deletes, for an opaque marker its directory.</summary>
    public string Path { get; }

    public LayerEntryKind Kind { get; }

    /// <summary>A symlink's target as written, or a hard link's normalised target path.</summary>
    public string? LinkTarget { get; }

    public IReadOnlyList<KeyValuePair<string, byte[]>> Xattrs { get; }

    public uint Mode => (uint)Tar.Mode & 0xFFF;

    public long Length => Tar.Length;
}
