using System.Runtime.InteropServices;

namespace Slacker.Native;

/// <summary>Loop devices (linux/loop.h) and the block-device and file-system ioctls used around them.</summary>
public static unsafe partial class Libc
{
    public const nuint LOOP_CLR_FD = 0x4C01;
    public const nuint LOOP_CONFIGURE = 0x4C0A;
    public const nuint LOOP_CTL_GET_FREE = 0x4C82;

    public const uint LO_FLAGS_READ_ONLY = 1;
    public const uint LO_FLAGS_AUTOCLEAR = 4;
    public const uint LO_FLAGS_DIRECT_IO = 16;

    /// <summary>BLKFLSBUF: write back and drop a block device's buffer cache.</summary>
    public const nuint BLKFLSBUF = 0x1261;

    /// <summary>FIFREEZE / FITHAW (_IOWR('X', 119/120, int)).</summary>
    public const nuint FIFREEZE = 0xC0045877;
    public const nuint FITHAW = 0xC0045878;

    /// <summary>struct loop_info64 of linux/loop.h (232 bytes on every 64-bit ABI).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LoopInfo64
    {
        public const int NameSize = 64;

        public ulong Device;
        public ulong Inode;
        public ulong RDevice;
        public ulong Offset;
        public ulong SizeLimit;
        public uint Number;
        public uint EncryptType;
        public uint EncryptKeySize;
        public uint Flags;
        public fixed byte FileName[NameSize];
        public fixed byte CryptName[NameSize];
        public fixed byte EncryptKey[32];
        public fixed ulong Init[2];
    }

    /// <summary>struct loop_config of linux/loop.h (304 bytes): LOOP_CONFIGURE sets fd, block size and flags at once.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LoopConfig
    {
        public uint Fd;
        public uint BlockSize;
        public LoopInfo64 Info;
        public fixed ulong Reserved[8];
    }
}
