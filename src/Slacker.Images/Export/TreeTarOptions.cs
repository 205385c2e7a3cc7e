namespace Slacker.Images.Export;

/// <summary>How <see cref="TreeTarWriter"/> turns a directory tree into a layer tar. The defaults keep every inode as it is.</summary>
public sealed record TreeTarOptions
{
    /// <summary>
    /// When set, mtimes later than this are clamped to it and kept in whole seconds (the SOURCE_DATE_EPOCH
    /// convention), so that rebuilding the same tree gives the same bytes. When null, mtimes are kept exactly.
    /// Entries the writer makes up (prefix directories, whiteouts, opaque markers) carry this time.
    /// </summary>
    public DateTimeOffset? Epoch { get; init; }

    /// <summary>The tree is an overlayfs upper dir: its whiteouts and opaque dirs become OCI whiteout entries.</summary>
    public bool OverlayUpper { get; init; }

    /// <summary>Place the tree under this path in the layer (e.g. "go/src"); its directories are added first.</summary>
    public string? Prefix { get; init; }

    /// <summary>Owner root, files 0644, dirs 0755, no xattrs, every mtime the epoch: for trees whose metadata means nothing (checkouts).</summary>
    public bool Normalize { get; init; }

    /// <summary>Leave sockets out (and say so through <see cref="Warn"/>) instead of failing: a layer cannot hold one.</summary>
    public bool SkipSockets { get; init; }

    /// <summary>Told about what is left out of the layer.</summary>
    public Action<string>? Warn { get; init; }
}
