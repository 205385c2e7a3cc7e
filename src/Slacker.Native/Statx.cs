using System.Runtime.InteropServices;

namespace Slacker.Native;

/// <summary>Linux <c>struct statx</c>: 256 bytes, the same on every architecture (unlike <c>struct stat</c>).</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
public struct Statx
{
    [FieldOffset(0)] public uint Mask;
    [FieldOffset(16)] public uint Nlink;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(32)] public ulong Ino;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(48)] public ulong Blocks;
    [FieldOffset(112)] public long MtimeSeconds;
    [FieldOffset(120)] public uint MtimeNanoseconds;
    [FieldOffset(128)] public uint RdevMajor;
    [FieldOffset(132)] public uint RdevMinor;
    [FieldOffset(136)] public uint DevMajor;
    [FieldOffset(140)] public uint DevMinor;

    /// <summary>The S_IF* bits of <see cref="Mode"/>.</summary>
    public readonly uint Type => Mode & Libc.S_IFMT;

    public readonly uint Permissions => Mode & 0xFFFu;
}
