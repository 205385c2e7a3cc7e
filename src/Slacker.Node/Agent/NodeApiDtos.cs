using Slacker.Node.Cache;
using Slacker.Node.Volumes;

namespace Slacker.Node.Agent;

// The JSON documents of the node API (docs/API.md, "Node API"). Containers travel as ContainerRecord.

public sealed record NodeInfo(
    string DataDir,
    string Server,
    string Socket,
    string Runtime,
    int Containers,
    int Running,
    ChunkCacheStats Cache);

public sealed record WaitResponse(int? ExitCode, string? Error);

public sealed record CommitRequest(string Reference, string? Label = null);

public sealed record CommitResponse(
    string Reference,
    string ImageId,
    string Snapshot,
    long DirtyChunks,
    long UploadedChunks,
    long UploadedBytes,
    long ChunksAlreadyOnServer,
    double Seconds);

/// <summary>What a container's root cost: how much of the image was fetched lazily, and from where.</summary>
public sealed record ContainerStats(
    string Id,
    string Name,
    string Image,
    string? Volume,
    long ImageBytes,
    int ChunkSize,
    bool Live,
    VolumeStatsSnapshot? VolumeStats);

public sealed record PruneCacheResponse(long EntriesRemoved, long BytesRemoved, ChunkCacheStats Cache);
