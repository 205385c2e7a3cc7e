using System.Formats.Tar;
using System.IO.Compression;

namespace Slacker.Bench.Oci;

/// <summary>
/// Writes a directory tree as a deterministic gzip OCI layer into a blob store (blobs/sha256/&lt;hex&gt;).
/// Entries are sorted, parents come before children, mtimes are clamped to the epoch, and hard links
/// point at the first path (in that order) of their inode, so the same tree always gives the same digest.
/// </summary>
public static class LayerWriter
{
    /// <summary>Bumped whenever the same tree would give different bytes; cached layer records carry it in their key.</summary>
    public const int FormatVersion = 2;

    public static Task<LayerBlob> WriteAsync(string sourceDir, LayerOptions options, string blobStore, CancellationToken cancellationToken = default) =>
        Task.Run(() => Write(sourceDir, options, blobStore, cancellationToken), cancellationToken);

    public static LayerBlob Write(string sourceDir, LayerOptions options, string blobStore, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(sourceDir))
        {
            throw new DirectoryNotFoundException($"layer source {sourceDir} does not exist.");
        }

        var shaDir = Path.Combine(blobStore, "sha256");
        Directory.CreateDirectory(shaDir);
        var temp = Path.Combine(shaDir, $".tmp-{Guid.NewGuid():N}");
        try
        {
            LayerBlob blob;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                using var compressed = new DigestingStream(file, leaveOpen: true);
                using var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true);
                using var uncompressed = new DigestingStream(gzip, leaveOpen: true);
                int entries;
                using (var tar = new TarWriter(uncompressed, TarEntryFormat.Pax, leaveOpen: true))
                {
                    var walker = new LayerTreeWalker(tar, options, cancellationToken);
                    walker.WriteTree(sourceDir);
                    entries = walker.Entries;
                }

                if (entries == 0)
                {
                    // TarWriter writes no end-of-archive blocks for an empty archive, and GZipStream writes no
                    // header for empty input; an empty layer must still be a valid gzip'd tar.
                    uncompressed.Write(new byte[1024]);
                }

                uncompressed.Flush();
                gzip.Dispose();
                compressed.Flush();
                blob = new LayerBlob(compressed.Digest(), uncompressed.Digest(), compressed.BytesWritten, uncompressed.BytesWritten, entries);
            }

            var final = Path.Combine(shaDir, blob.Digest.Hex);
            if (File.Exists(final))
            {
                File.Delete(temp);
            }
            else
            {
                File.Move(temp, final);
            }

            return blob;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
