namespace Slacker.Images.Layers;

/// <summary>
/// Bounds on untrusted layers. The defaults admit any realistic image (the biggest CUDA images are ~20 GiB
/// unpacked) while a gzip bomb or a forged size header stops long before it can fill a disk.
/// </summary>
public sealed record LayerLimits
{
    /// <summary>All layers of one image together, uncompressed (tar bytes). Default 32 GiB.</summary>
    public long MaxUncompressedBytes { get; init; } = 32L << 30;

    /// <summary>Tar entries in one layer. Default 4 million.</summary>
    public int MaxEntriesPerLayer { get; init; } = 4_000_000;

    /// <summary>Bytes of one extended-attribute value. Default 64 KiB (the ext4 maximum).</summary>
    public int MaxXattrValueBytes { get; init; } = 64 * 1024;

    public static LayerLimits Default { get; } = new();
}
