using System.Runtime.InteropServices;

namespace Slacker.Bench.Native;

/// <summary>
/// Linux <c>struct statx</c>. Its layout is the same on every architecture, unlike <c>struct stat</c>,
/// which is why the layer writer reads inode metadata through it.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct Statx
{
    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const uint BasicStats = 0x7ff;

    public const uint TypeMask = 0xF000;
    public const uint TypeFifo = 0x1000;
    public const uint TypeCharDevice = 0x2000;
    public const uint TypeDirectory = 0x4000;
    public const uint TypeBlockDevice = 0x6000;
    public const uint TypeRegular = 0x8000;
    public const uint TypeSymlink = 0xA000;
    public const uint TypeSocket = 0xC000;

    [FieldOffset(0)] public uint Mask;
    [FieldOffset(16)] public uint NLink;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(32)] public ulong Ino;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(112)] public long MtimeSeconds;
    [FieldOffset(120)] public uint MtimeNanoseconds;
    [FieldOffset(128)] public uint RdevMajor;
    [FieldOffset(132)] public uint RdevMinor;
    [FieldOffset(136)] public uint DevMajor;
    [FieldOffset(140)] public uint DevMinor;

    public readonly uint FileType => Mode & TypeMask;

    public readonly uint Permissions => Mode & 0xFFFu;
}
