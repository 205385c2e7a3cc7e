using Slacker.Core.Model;

namespace Slacker.Core.Storage;

/// <summary>
/// Volumes, snapshots and named references. Every method is one atomic transaction. Implementations: SQLite
/// (embedded default) and PostgreSQL (scale-out), so nothing here assumes a single process.
/// </summary>
public interface IMetadataStore : IAsyncDisposable
{
    /// <summary>Creates the schema if needed. Call once before anything else.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>
    /// Inserts the volume; when it has a base snapshot, checks in the same transaction that it exists. A volume id
    /// that exists already is left as it is (<see cref="CreateVolumeOutcome.AlreadyExists"/>): a client that
    /// retries a create after a lost answer names the same id.
    /// </summary>
    Task<CreateVolumeOutcome> CreateVolumeAsync(VolumeRecord volume, CancellationToken ct = default);

    Task<VolumeRecord?> GetVolumeAsync(string id, CancellationToken ct = default);

    Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken ct = default);

    /// <summary>The volume and its changes sorted by index, in one read. Null if unknown.</summary>
    Task<VolumeState?> GetVolumeStateAsync(string id, CancellationToken ct = default);

    /// <summary>Upserts the changes and bumps the version, all or nothing. Null if the volume is unknown.</summary>
    Task<VolumeRecord?> ApplyChangesAsync(string volumeId, IReadOnlyList<ChunkChange> changes, CancellationToken ct = default);

    Task<bool> DeleteVolumeAsync(string id, CancellationToken ct = default);

    /// <summary>
    /// Inserts the snapshot (or, if a snapshot with that id exists, un-releases it), makes it the volume's base
    /// and clears the volume's changes - only if the volume is still at <see cref="SnapshotCommit.VolumeVersion"/>.
    /// </summary>
    Task<SnapshotCommitOutcome> CommitSnapshotAsync(SnapshotCommit commit, CancellationToken ct = default);

    Task<SnapshotRecord?> GetSnapshotAsync(Digest id, CancellationToken ct = default);

    Task<byte[]?> GetSnapshotRootAsync(Digest id, CancellationToken ct = default);

    Task<IReadOnlyList<SnapshotRecord>> ListSnapshotsAsync(CancellationToken ct = default);

    /// <summary>Who keeps the snapshot: "volume:ID" for volumes based on it, then the owners of named references.</summary>
    Task<IReadOnlyList<string>> GetSnapshotUsersAsync(Digest id, CancellationToken ct = default);

    /// <summary>Stores (or replaces) the snapshot's startup profile document. False if the snapshot is unknown.</summary>
    Task<bool> PutStartupProfileAsync(Digest snapshot, byte[] document, CancellationToken ct = default);

    /// <summary>The snapshot's startup profile document, or null when it has none; it goes with the snapshot.</summary>
    Task<byte[]?> GetStartupProfileAsync(Digest snapshot, CancellationToken ct = default);

    /// <summary>Marks the snapshot released (gc may delete it once nothing uses it). Null if unknown.</summary>
    Task<SnapshotRecord?> ReleaseSnapshotAsync(Digest id, CancellationToken ct = default);

    /// <summary>
    /// A named reference that keeps <paramref name="target"/> alive: a snapshot (e.g. a registry tag whose
    /// manifest names it) or any blob in the chunk store (e.g. a manifest's config and layers). Idempotent.
    /// </summary>
    Task AddReferenceAsync(Digest target, string owner, CancellationToken ct = default);

    /// <summary>Removes one named reference. False if it did not exist.</summary>
    Task<bool> RemoveReferenceAsync(Digest target, string owner, CancellationToken ct = default);

    /// <summary>Owners of named references to <paramref name="target"/>.</summary>
    Task<IReadOnlyList<string>> GetReferencesAsync(Digest target, CancellationToken ct = default);

    /// <summary>Deletes released snapshots that no volume has as base and no reference names; returns their ids.</summary>
    Task<IReadOnlyList<Digest>> DeleteUnusedReleasedSnapshotsAsync(CancellationToken ct = default);

    /// <summary>Everything gc must keep, from one consistent view.</summary>
    Task<LiveSet> ReadLiveSetAsync(CancellationToken ct = default);

    /// <summary>
    /// Waits until no other gc runs against this metadata, in any server process, and holds that until disposed.
    /// A holder that dies (kill -9) releases it with its connection.
    /// </summary>
    Task<IAsyncDisposable> LockForGcAsync(CancellationToken ct = default);
}
