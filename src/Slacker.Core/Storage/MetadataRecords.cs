using Slacker.Core.Model;

namespace Slacker.Core.Storage;

/// <summary>A volume row: geometry, optional base snapshot, and a version bumped by every map change.</summary>
public sealed record VolumeRecord(
    string Id,
    ChunkGeometry Geometry,
    Digest? BaseSnapshot,
    string? Label,
    long Version,
    long ChangedChunks,
    DateTimeOffset CreatedAt);

/// <summary>A snapshot row. The root bytes are kept beside it (see <see cref="IMetadataStore.GetSnapshotRootAsync"/>).</summary>
public sealed record SnapshotRecord(
    Digest Id,
    ChunkGeometry Geometry,
    string? SourceVolume,
    string? Label,
    bool Released,
    DateTimeOffset CreatedAt);

/// <summary>A volume row with its change list, read in one consistent view.</summary>
public sealed record VolumeState(VolumeRecord Volume, IReadOnlyList<ChunkChange> Changes);

/// <summary>What a new snapshot commits: its row, its root bytes, and the volume version it was built from.</summary>
public sealed record SnapshotCommit(SnapshotRecord Snapshot, byte[] Root, string VolumeId, long VolumeVersion);

public enum SnapshotCommitOutcome
{
    Committed,

    /// <summary>The volume's map changed since it was read: rebuild from the new state.</summary>
    VolumeChanged,
    VolumeUnknown,
}

public enum CreateVolumeOutcome
{
    Created,
    BaseSnapshotUnknown,
    AlreadyExists,
}

/// <summary>
/// What gc must keep, read in one consistent view of the metadata: every kept snapshot (and, through its
/// pages, its chunks), the chunks named by volumes' change lists, and the targets of named references.
/// </summary>
public sealed record LiveSet(
    IReadOnlyList<Digest> Snapshots,
    IReadOnlyList<Digest> ChangeChunks,
    IReadOnlyList<Digest> ReferenceTargets);
