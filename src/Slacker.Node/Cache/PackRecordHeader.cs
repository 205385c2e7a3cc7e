using System.Runtime.InteropServices;
using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>
/// What precedes every blob in a cache pack, so that a restart can rebuild the index from the packs alone (no
/// separate index file that could disagree with them). Little-endian, as written by this node's CPU.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct PackRecordHeader
{
    public const int Size = 48;

    /// <summary>"SLKC": a record starts here. A crash can leave anything after the last complete record.</summary>
    public const uint ExpectedMagic = 0x434B_4C53;

    [FieldOffset(0)]
    public uint Magic;

    /// <summary>Bytes of blob that follow the header.</summary>
    [FieldOffset(4)]
    public int Length;

    /// <summary>Zero; room for flags (e.g. compression) without changing the layout.</summary>
    [FieldOffset(8)]
    public ulong Reserved;

    [FieldOffset(16)]
    public Digest Digest;

    public static PackRecordHeader For(Digest digest, int length) =>
        new() { Magic = ExpectedMagic, Length = length, Digest = digest };
}
