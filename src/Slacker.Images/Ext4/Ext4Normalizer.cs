using System.Buffers.Binary;

namespace Slacker.Images.Ext4;

/// <summary>
/// Rewrites the fields of an unmounted ext4 image that the kernel fills from the clock or from randomness, so
/// that applying the same layers twice gives the same bytes and a re-import uploads no new chunk:
/// superblock mount/write times, mount count, last-mounted path and lifetime-writes counter; in every inode in
/// use, ctime and crtime (set to the mtime the layer asked for), the random i_generation and i_version; every
/// inode not in use is zeroed (deleted inodes keep the deletion time and stale fields otherwise).
/// Works only without metadata_csum, which <see cref="Ext4Layout.Features"/> guarantees.
/// </summary>
public static class Ext4Normalizer
{
    private const int SuperblockOffset = 1024;
    private const ushort Magic = 0xEF53;
    private const uint RoCompatMetadataCsum = 0x400;
    private const uint IncompatBit64 = 0x80;
    private const ushort InodeUninit = 0x1;

    public static void Normalize(string file, uint timestamp)
    {
        using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
        var sb = new byte[1024];
        RandomAccess.Read(handle, sb, SuperblockOffset);
        if (BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(0x38)) != Magic)
        {
            throw new InvalidDataException($"{file} has no ext4 superblock.");
        }

        if ((BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x64)) & RoCompatMetadataCsum) != 0)
        {
            throw new InvalidDataException($"{file} uses metadata_csum; the normaliser only handles image file systems made by Ext4Format.");
        }

        var blockSize = 1024L << (int)BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x18));
        var blocksCount = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x04)) | ((long)BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x150)) << 32);
        var firstDataBlock = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x14));
        var blocksPerGroup = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x20));
        var inodesPerGroup = (int)BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x28));
        var inodeSize = BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(0x58));
        var is64 = (BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x60)) & IncompatBit64) != 0;
        var descSize = is64 ? BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(0xFE)) : 32;
        var groups = (int)((blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup);

        var gdt = new byte[groups * descSize];
        RandomAccess.Read(handle, gdt, (firstDataBlock + 1) * blockSize);
        var table = new byte[inodesPerGroup * inodeSize];
        var bitmap = new byte[blockSize];
        for (var g = 0; g < groups; g++)
        {
            var desc = gdt.AsSpan(g * descSize, descSize);
            if ((BinaryPrimitives.ReadUInt16LittleEndian(desc[0x12..]) & InodeUninit) != 0)
            {
                continue;
            }

            var bitmapBlock = BinaryPrimitives.ReadUInt32LittleEndian(desc[0x04..]) | (descSize >= 64 ? (long)BinaryPrimitives.ReadUInt32LittleEndian(desc[0x24..]) << 32 : 0);
            var tableBlock = BinaryPrimitives.ReadUInt32LittleEndian(desc[0x08..]) | (descSize >= 64 ? (long)BinaryPrimitives.ReadUInt32LittleEndian(desc[0x28..]) << 32 : 0);
            RandomAccess.Read(handle, bitmap, bitmapBlock * blockSize);
            RandomAccess.Read(handle, table, tableBlock * blockSize);
            var changed = false;
            for (var i = 0; i < inodesPerGroup; i++)
            {
                var inode = table.AsSpan(i * inodeSize, inodeSize);
                var inUse = (bitmap[i >> 3] & (1 << (i & 7))) != 0;
                changed |= inUse ? ClampInode(inode) : Zero(inode);
            }

            if (changed)
            {
                RandomAccess.Write(handle, table, tableBlock * blockSize);
            }
        }

        ClampSuperblock(sb, timestamp);
        RandomAccess.Write(handle, sb, SuperblockOffset);
    }

    private static bool Zero(Span<byte> inode)
    {
        if (!inode.ContainsAnyExcept((byte)0))
        {
            return false;
        }

        inode.Clear();
        return true;
    }

    private static bool ClampInode(Span<byte> inode)
    {
        Span<byte> before = stackalloc byte[inode.Length];
        inode.CopyTo(before);
        var mtime = BinaryPrimitives.ReadUInt32LittleEndian(inode[0x10..]);
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x0C..], mtime);   // ctime
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x14..], 0);       // dtime
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x24..], 0);       // i_version (osd1)
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x64..], 0);       // i_generation
        var extra = inode.Length > 128 ? BinaryPrimitives.ReadUInt16LittleEndian(inode[0x80..]) : 0;
        if (extra >= 12)
        {
            var mtimeExtra = BinaryPrimitives.ReadUInt32LittleEndian(inode[0x88..]);
            BinaryPrimitives.WriteUInt32LittleEndian(inode[0x84..], mtimeExtra); // ctime_extra
            if (extra >= 24)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(inode[0x90..], mtime);      // crtime
                BinaryPrimitives.WriteUInt32LittleEndian(inode[0x94..], mtimeExtra); // crtime_extra
            }

            if (extra >= 28)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(inode[0x98..], 0); // i_version_hi
            }
        }

        return !inode.SequenceEqual(before);
    }

    private static void ClampSuperblock(Span<byte> sb, uint timestamp)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x2C..], timestamp); // s_mtime
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x30..], timestamp); // s_wtime
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x34..], 0);         // s_mnt_count
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x40..], timestamp); // s_lastcheck
        sb.Slice(0x88, 64).Clear();                                      // s_last_mounted
        BinaryPrimitives.WriteUInt64LittleEndian(sb[0x178..], 0);        // s_kbytes_written
        sb.Slice(0x274, 2).Clear();                                      // s_wtime_hi, s_mtime_hi
        sb[0x277] = 0;                                                   // s_lastcheck_hi
    }
}
