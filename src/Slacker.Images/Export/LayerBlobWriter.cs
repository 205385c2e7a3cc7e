using System.IO.Compression;

namespace Slacker.Images.Export;

/// <summary>
/// Writes a directory tree (<see cref="TreeTarWriter"/>) as a layer blob into a blob store
/// (<c>STORE/sha256/HEX</c>), hashing the tar (diff_id) and the stored bytes (digest) on the way, so the tree
/// is read once. With a <see cref="TreeTarOptions.Epoch"/> and the same compression level the same tree
/// always gives the same digest.
/// </summary>
public static class LayerBlobWriter
{
    /// <summary>Bumped whenever the same tree would give different bytes; callers that cache layers by tree put it in their key.</summary>
    public const int FormatVersion = 3;

    public static Task<LayerBlob> WriteAsync(
        string sourceDir, TreeTarOptions options, string blobStore, CompressionLevel? gzip = CompressionLevel.Optimal, CancellationToken cancellationToken = default) =>
        Task.Run(() => Write(sourceDir, options, blobStore, gzip, cancellationToken), cancellationToken);

    /// <summary>Writes the layer; <paramref name="gzip"/> null stores the plain tar (a docker-archive layer).</summary>
    public static LayerBlob Write(
        string sourceDir, TreeTarOptions options, string blobStore, CompressionLevel? gzip = CompressionLevel.Optimal, CancellationToken cancellationToken = default)
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
                using var stored = new DigestingStream(file, leaveOpen: true);
                using var gzipStream = gzip is { } level ? new GZipStream(stored, level, leaveOpen: true) : null;
                using var tar = gzipStream is null ? null : new DigestingStream(gzipStream, leaveOpen: true);
                var entries = TreeTarWriter.Write(sourceDir, (Stream?)tar ?? stored, options, cancellationToken);
                tar?.Flush();
                gzipStream?.Dispose();
                stored.Flush();
                var diffId = tar?.Digest() ?? stored.Digest();
                blob = new LayerBlob(stored.Digest(), diffId, stored.BytesWritten, tar?.BytesWritten ?? stored.BytesWritten, entries);
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
