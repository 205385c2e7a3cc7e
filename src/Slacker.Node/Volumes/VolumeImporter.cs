using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Native;

namespace Slacker.Node.Volumes;

/// <summary>
/// Imports a raw disk image (e.g. an ext4 file system built by mkfs.ext4 -d) as a new server volume and takes
/// its first snapshot. Holes and all-zero chunks are skipped (a sparse 16 GiB image with 200 MiB of data reads
/// 200 MiB); only chunks the server lacks are uploaded; the map is recorded in batches.
/// </summary>
public static class VolumeImporter
{
    /// <summary>Chunks hashed per round of "which are missing / upload / PATCH"; bounds memory for any image size.</summary>
    private const int WindowChunks = 4096;

    public static async Task<ImportResult> ImportAsync(
        IBlockStore store,
        string imagePath,
        int chunkSize = ChunkGeometry.DefaultChunkSize,
        string? label = null,
        int uploadParallelism = 4,
        int mapBatchSize = 8192,
        CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var image = File.OpenHandle(imagePath, FileMode.Open, FileAccess.Read);
        var length = RandomAccess.GetLength(image);
        if (length == 0)
        {
            throw new InvalidDataException($"{imagePath} is empty; a volume image needs at least one chunk.");
        }

        var size = (length + chunkSize - 1) / chunkSize * chunkSize;
        if (ChunkGeometry.Validate(size, chunkSize) is { } error)
        {
            throw new ArgumentException($"Cannot import {imagePath}: {error}");
        }

        var geometry = new ChunkGeometry(size, chunkSize);
        var volume = await store.CreateVolumeAsync(new CreateVolumeRequest(Size: size, ChunkSize: chunkSize, Label: label), cancellationToken);
        long chunks = 0, zeroChunks = 0, uploadedChunks = 0, uploadedBytes = 0;
        var window = new List<(long Index, Digest Digest)>(WindowChunks);
        var firstIndexOf = new Dictionary<Digest, long>();
        var buffer = new byte[chunkSize];

        async Task FlushWindowAsync()
        {
            if (window.Count == 0)
            {
                return;
            }

            var (n, bytes) = await ChunkUploader.UploadMissingAsync(
                store, window.Select(w => w.Digest).ToList(), d => ReadChunk(image, geometry, firstIndexOf[d], length), uploadParallelism, cancellationToken);
            uploadedChunks += n;
            uploadedBytes += bytes;
            await ChunkUploader.UpdateMapAsync(store, volume.Id, window, mapBatchSize, cancellationToken);
            window.Clear();
            firstIndexOf.Clear();
        }

        foreach (var index in DataChunks(image, geometry, length))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = buffer.AsSpan();
            ReadInto(image, geometry, index, length, data);
            chunks++;
            if (!data.ContainsAnyExcept((byte)0))
            {
                zeroChunks++;
                continue;
            }

            var digest = Digest.Compute(data);
            firstIndexOf.TryAdd(digest, index);
            window.Add((index, digest));
            if (window.Count == WindowChunks)
            {
                await FlushWindowAsync();
            }
        }

        await FlushWindowAsync();
        var snapshot = await store.SnapshotAsync(volume.Id, label, cancellationToken);
        return new ImportResult(volume, snapshot, geometry.ChunkCount, geometry.ChunkCount - chunks + zeroChunks, uploadedChunks, uploadedBytes, clock.Elapsed);
    }

    /// <summary>Indexes of the chunks that overlap data extents (SEEK_DATA/SEEK_HOLE), ascending, each once.</summary>
    private static IEnumerable<long> DataChunks(SafeFileHandle image, ChunkGeometry geometry, long length)
    {
        var fd = (int)image.DangerousGetHandle();
        var next = 0L; // first chunk index not yet yielded
        var position = 0L;
        while (position < length)
        {
            var dataStart = Libc.Lseek(fd, position, Libc.SEEK_DATA);
            if (dataStart < 0)
            {
                if (Libc.LastErrno == Libc.ENXIO)
                {
                    yield break; // only a hole remains
                }

                // A file system without SEEK_DATA: treat everything as data.
                dataStart = position;
            }

            var dataEnd = Libc.Lseek(fd, dataStart, Libc.SEEK_HOLE);
            if (dataEnd < 0)
            {
                dataEnd = length;
            }

            var first = Math.Max(next, geometry.ChunkIndexOf(dataStart));
            var last = geometry.ChunkIndexOf(Math.Min(dataEnd, length) - 1);
            for (var i = first; i <= last; i++)
            {
                yield return i;
            }

            next = Math.Max(next, last + 1);
            position = Math.Max(dataEnd, geometry.OffsetOf(next));
        }
    }

    private static byte[] ReadChunk(SafeFileHandle image, ChunkGeometry geometry, long index, long length)
    {
        var chunk = new byte[geometry.ChunkSize];
        ReadInto(image, geometry, index, length, chunk);
        return chunk;
    }

    private static void ReadInto(SafeFileHandle image, ChunkGeometry geometry, long index, long length, Span<byte> chunk)
    {
        var offset = geometry.OffsetOf(index);
        var done = 0;
        while (done < chunk.Length && offset + done < length)
        {
            var n = RandomAccess.Read(image, chunk[done..], offset + done);
            if (n == 0)
            {
                break;
            }

            done += n;
        }

        // The last chunk of an image whose size is not a chunk multiple is zero-padded.
        chunk[done..].Clear();
    }
}
