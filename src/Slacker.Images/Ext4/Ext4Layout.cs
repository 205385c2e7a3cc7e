namespace Slacker.Images.Ext4;

/// <summary>
/// Everything that decides the bytes of an image file system besides its content: size, inode count, UUID
/// and hash seed, and the one timestamp used for every time the tools or the kernel would take from the clock.
/// </summary>
public sealed record Ext4Layout(long SizeBytes, long Inodes, Guid Uuid, long Timestamp)
{
    public const int BlockSize = 4096;
    public const int InodeSize = 256;
    public const int JournalMegabytes = 32;

    /// <summary>mke2fs features, fixed here rather than taken from the host's mke2fs.conf. metadata_csum is off so
    /// that the normaliser can rewrite inode times without recomputing checksums; the journal is added after.</summary>
    public const string Features = "sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr,extent,huge_file,flex_bg,64bit,dir_nlink,extra_isize,uninit_bg";
}
