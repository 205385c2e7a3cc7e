using System.Security.Cryptography;
using System.Text;
using Slacker.Core.Model;
using Slacker.Images.Ext4;
using Slacker.Images.Layers;

namespace Slacker.Images.Import;

/// <summary>
/// Sizes an image's file system from its scanned layers. Summing every layer over-counts files that upper
/// layers replace or delete, which only adds free space. Unused space costs nothing: mkfs zeroes the inode
/// tables and the volume never stores zero chunks.
/// </summary>
public static class Ext4Sizing
{
    private const long MiB = 1 << 20;

    public static Ext4Layout Plan(IReadOnlyList<LayerScan> scans, Digest configDigest, DateTimeOffset? created, long? freeSpace, int chunkSize)
    {
        long data = 0, entries = 0, directories = 0;
        foreach (var scan in scans)
        {
            data += scan.FileBytes;
            entries += scan.Entries;
            directories += scan.Directories;
        }

        var inodes = Math.Max(16_384, entries + (entries / 4) + 4096);
        var content = data + (directories * Ext4Layout.BlockSize) + (entries * 128);
        var metadata = (inodes * Ext4Layout.InodeSize) + (content / 64) + (Ext4Layout.JournalMegabytes * MiB) + (16 * MiB);
        var free = freeSpace ?? Math.Max(256 * MiB, data / 4);
        var size = RoundUp(content + metadata + free, Math.Max(MiB, chunkSize));

        var seed = SHA256.HashData(Encoding.UTF8.GetBytes("slacker-ext4:" + configDigest));
        seed[6] = (byte)((seed[6] & 0x0F) | 0x50); // RFC 4122 version 5 (name-based) ...
        seed[8] = (byte)((seed[8] & 0x3F) | 0x80); // ... and variant bits, so tools accept it as a UUID.
        var uuid = new Guid(seed.AsSpan(0, 16), bigEndian: true);
        var timestamp = Math.Clamp(created?.ToUnixTimeSeconds() ?? 1, 1, uint.MaxValue);
        return new Ext4Layout(size, inodes, uuid, timestamp);
    }

    private static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;
}
