using System.Text.Json.Serialization;

namespace Slacker.Core.Api;

// The JSON documents of the block-store API (docs/API.md). Digests travel as "sha256:<hex>" strings;
// a null digest in a block-map entry means "zero chunk".

public sealed record ApiError(string Error, string Message);

public sealed record MissingChunksRequest(IReadOnlyList<string> Digests);

public sealed record MissingChunksResponse(IReadOnlyList<string> Missing);

public sealed record ChunkBatchRequest(IReadOnlyList<string> Digests);

/// <summary>
/// Create an empty volume (Size, ChunkSize) or a clone (BaseSnapshot; geometry comes from the snapshot). A client
/// that names the Id can repeat the request after a lost answer (another server, a retry) and gets the same volume.
/// </summary>
public sealed record CreateVolumeRequest(long? Size = null, int? ChunkSize = null, string? BaseSnapshot = null, string? Label = null, string? Id = null);

public sealed record VolumeInfo(
    string Id,
    long Size,
    int ChunkSize,
    string? BaseSnapshot,
    string? Label,
    long ChangedChunks,
    DateTimeOffset CreatedAt);

public sealed record BlockMapEntry(long Index, string? Digest);

public sealed record UpdateBlockMapRequest(IReadOnlyList<BlockMapEntry> Entries);

/// <summary>A volume's map as its base snapshot plus the entries that differ from it.</summary>
public sealed record VolumeBlockMap(string VolumeId, long Size, int ChunkSize, string? BaseSnapshot, IReadOnlyList<BlockMapEntry> Changes);

public sealed record CreateSnapshotRequest(string? Label = null);

public sealed record SnapshotInfo(
    string Id,
    long Size,
    int ChunkSize,
    int PageCount,
    string? SourceVolume,
    string? Label,
    bool Released,
    IReadOnlyList<string> ReferencedBy,
    DateTimeOffset CreatedAt);

/// <summary>
/// The chunks a container of a snapshot read first after it started (chunk indexes, in first-read order). A node
/// that starts another container of the snapshot fetches them ahead of the reads, in a few large batches.
/// </summary>
public sealed record StartupProfile(IReadOnlyList<long> Chunks);

public sealed record GcReport(
    long ChunksScanned,
    long ChunksDeleted,
    long BytesDeleted,
    long PagesDeleted,
    long SnapshotsDeleted,
    double Seconds);

public sealed record FsckProblem(string Kind, string Subject, string Detail);

public sealed record FsckReport(long SnapshotsChecked, long VolumesChecked, long ChunksChecked, IReadOnlyList<FsckProblem> Problems)
{
    [JsonIgnore]
    public bool IsClean => Problems.Count == 0;
}
