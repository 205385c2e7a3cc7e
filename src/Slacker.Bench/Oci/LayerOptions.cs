namespace Slacker.Bench.Oci;

/// <summary>How a directory becomes a layer.</summary>
public sealed record LayerOptions
{
    /// <summary>Mtimes later than this are clamped to it (the SOURCE_DATE_EPOCH convention), so rebuilds are identical.</summary>
    public required DateTimeOffset Epoch { get; init; }

    /// <summary>The directory is an overlayfs upper dir: translate whiteouts and opaque dirs to OCI form.</summary>
    public bool OverlayUpper { get; init; }

    /// <summary>Place the tree under this path in the layer (e.g. "hello"); its parent directories are added.</summary>
    public string? Prefix { get; init; }

    /// <summary>Owner root, files 0644, dirs 0755, every mtime = epoch: for sources whose metadata is not meaningful (checkouts).</summary>
    public bool Normalize { get; init; }

    /// <summary>Told about things that cannot go into the layer (sockets, non-UTF-8 xattr values).</summary>
    public Action<string>? Warn { get; init; }
}
