namespace Slacker.Node.Volumes;

/// <summary>What a commit did: the snapshot it took and how much it had to move (grows with the change, not the volume).</summary>
public sealed record CommitResult(
    string VolumeId,
    string SnapshotId,
    long DirtyChunks,
    long ZeroChunks,
    long UploadedChunks,
    long UploadedBytes,
    long ChunksAlreadyOnServer,
    TimeSpan Duration);
