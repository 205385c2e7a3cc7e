using Slacker.Core.Api;
using Slacker.Core.Storage;

namespace Slacker.Server.Http;

/// <summary>Metadata records to the API's documents.</summary>
public static class ApiMapping
{
    public static VolumeInfo ToInfo(this VolumeRecord volume) => new(
        volume.Id, volume.Geometry.VolumeSize, volume.Geometry.ChunkSize, volume.BaseSnapshot?.ToString(), volume.Label, volume.ChangedChunks, volume.CreatedAt);

    public static SnapshotInfo ToInfo(this SnapshotRecord snapshot, IReadOnlyList<string> referencedBy) => new(
        snapshot.Id.ToString(), snapshot.Geometry.VolumeSize, snapshot.Geometry.ChunkSize, snapshot.Geometry.PageCount,
        snapshot.SourceVolume, snapshot.Label, snapshot.Released, referencedBy, snapshot.CreatedAt);
}
