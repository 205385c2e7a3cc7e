using Slacker.Core.Model;

namespace Slacker.Images.Layers;

/// <summary>What the scan pass learned about a layer: its verified diff_id and how much room it needs.</summary>
public sealed record LayerScan(string Layer, Digest DiffId, long TarBytes, long FileBytes, long Entries, long Directories);

/// <summary>
/// The scan pass of an import: reads a layer once, before anything is written, to verify its digest and
/// diff_id, apply every tar-level rule, and measure it so the file system can be sized. A hostile or broken
/// image is thus refused before mkfs runs.
/// </summary>
public static class LayerScanner
{
    public static LayerScan Scan(Stream blob, string layer, UncompressedBudget budget, LayerLimits limits)
    {
        using var reader = new LayerReader(blob, layer, budget, limits, computeDiffId: true);
        long fileBytes = 0, entries = 0, directories = 0;
        while (reader.Next() is { } entry)
        {
            entries++;
            switch (entry.Kind)
            {
                case LayerEntryKind.File:
                    fileBytes += (entry.Length + 4095) & ~4095L;
                    break;
                case LayerEntryKind.Directory:
                    directories++;
                    break;
            }
        }

        var diffId = reader.Finish();
        return new LayerScan(layer, diffId, reader.UncompressedBytes, fileBytes, entries, directories);
    }
}
