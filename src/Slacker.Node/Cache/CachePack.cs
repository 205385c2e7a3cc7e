using Microsoft.Win32.SafeHandles;
using Slacker.Core.Model;
using Slacker.Native;

namespace Slacker.Node.Cache;

/// <summary>
/// One append-only pack file of the chunk cache: records (<see cref="PackRecordHeader"/> + blob) back to back.
/// Packs are the unit of eviction; a blob's bytes stay where they were written until its whole pack goes. The
/// handles stay open for the pack's life, so a hit is one read; SafeHandle's reference count lets a read that
/// raced with eviction finish on the unlinked file.
/// </summary>
internal sealed class CachePack(int id, string path, SafeFileHandle handle, long length, SafeFileHandle? directHandle) : IDisposable
{
    public int Id { get; } = id;

    public string Path { get; } = path;

    /// <summary>Buffered, read-write: hits, scans, cut-backs and the short tail writes.</summary>
    public SafeFileHandle Handle { get; } = handle;

    /// <summary>O_DIRECT: the tail's writes and chunk-sized reads that miss the page cache (see <see cref="PackTail"/>, <see cref="PackReader"/>). Null where the file system refuses O_DIRECT.</summary>
    public SafeFileHandle? DirectHandle { get; } = directHandle;

    /// <summary>End of the last complete record: where the next one goes. Changed under the cache's pack lock.</summary>
    public long Length { get; set; } = length;

    /// <summary>Blob bytes in this pack, live or dropped: what it counts against the cache's capacity.</summary>
    public long BlobBytes { get; set; }

    /// <summary>Index entries that point here; at zero the pack is deleted.</summary>
    public int Live { get; set; }

    /// <summary>Every digest written here (some may since point elsewhere or nowhere); eviction walks it.</summary>
    public List<Digest> Digests { get; } = [];

    /// <summary>
    /// Where the pack's first byte is in the cache's append stream (see <see cref="PackTail"/>); -1 for a pack
    /// found at start, which the ring never held.
    /// </summary>
    public long StreamBase = -1;

    /// <summary>Logical clock of the last hit or insert; eviction drops the pack with the smallest first (LRU).</summary>
    public long LastUse;

    /// <summary>
    /// An O_DIRECT handle on <paramref name="path"/>, or null when its file system refuses O_DIRECT (the pack is
    /// then written and read through the page cache: slower on a VM, the same bytes).
    /// </summary>
    public static SafeFileHandle? OpenDirect(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_DIRECT | Libc.O_CLOEXEC);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : null;
    }

    public static string FileName(int id) => $"{id:x8}.pack";

    public static bool TryParseId(string fileName, out int id)
    {
        id = 0;
        return fileName.Length == 13 && fileName.EndsWith(".pack", StringComparison.Ordinal)
            && int.TryParse(fileName.AsSpan(0, 8), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out id);
    }

    public void Dispose()
    {
        Handle.Dispose();
        DirectHandle?.Dispose();
    }
}
