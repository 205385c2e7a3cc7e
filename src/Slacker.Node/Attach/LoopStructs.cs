using System.Runtime.InteropServices;

namespace Slacker.Node.Attach;

/// <summary>struct loop_info64 of linux/loop.h (232 bytes on every 64-bit ABI).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LoopInfo64
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
internal unsafe struct LoopConfig
{
    public uint Fd;
    public uint BlockSize;
    public LoopInfo64 Info;
    public fixed ulong Reserved[8];
}

internal static class LoopIoctl
{
    public const nuint ClearFd = 0x4C01;
    public const nuint GetStatus64 = 0x4C05;
    public const nuint Configure = 0x4C0A;
    public const nuint ControlGetFree = 0x4C82;

    /// <summary>BLKFLSBUF: write back and drop the block device's buffer cache.</summary>
    public const nuint BlockFlushBuffers = 0x1261;

    /// <summary>FIFREEZE / FITHAW (_IOWR('X', 119/120, int)).</summary>
    public const nuint Freeze = 0xC0045877;
    public const nuint Thaw = 0xC0045878;

    public const uint FlagReadOnly = 1;
    public const uint FlagAutoClear = 4;
    public const uint FlagDirectIo = 16;
}
