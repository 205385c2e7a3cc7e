using Slacker.Core.Api;

namespace Slacker.Node.Volumes;

/// <summary>A raw disk image turned into a server volume and its first snapshot.</summary>
public sealed record ImportResult(
    VolumeInfo Volume,
    SnapshotInfo Snapshot,
    long Chunks,
    long ZeroChunks,
    long UploadedChunks,
    long UploadedBytes,
    TimeSpan Duration);
