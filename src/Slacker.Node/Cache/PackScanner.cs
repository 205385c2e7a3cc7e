using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>One blob found in a pack: its digest and where its bytes are.</summary>
internal readonly record struct PackRecord(Digest Digest, long Offset, int Length);

/// <summary>
/// Reads a pack's records from its start. Stops at the first header that is not one (bad magic, impossible
/// length, or a blob running past the end of the file): that is where a crash cut the last append short, and
/// <see cref="End"/> says where the complete records end. The bytes are not hashed here; the cache verifies each
/// blob on its first read after a restart.
/// </summary>
internal sealed class PackScanner
{
    private PackScanner(List<PackRecord> records, long end)
    {
        Records = records;
        End = end;
    }

    public List<PackRecord> Records { get; }

    public long End { get; }

    public static PackScanner Scan(SafeFileHandle handle)
    {
        var length = RandomAccess.GetLength(handle);
        var records = new List<PackRecord>();
        Span<byte> raw = stackalloc byte[PackRecordHeader.Size];
        long position = 0;
        while (position + PackRecordHeader.Size <= length)
        {
            if (RandomAccess.Read(handle, raw, position) != raw.Length)
            {
                break;
            }

            var header = MemoryMarshal.Read<PackRecordHeader>(raw);
            var data = position + PackRecordHeader.Size;
            if (header.Magic != PackRecordHeader.ExpectedMagic || header.Length < 0 || header.Digest.IsZero
                || data + header.Length > length)
            {
                break;
            }

            records.Add(new PackRecord(header.Digest, data, header.Length));
            position = data + header.Length;
        }

        return new PackScanner(records, position);
    }
}
