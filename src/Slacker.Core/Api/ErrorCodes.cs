namespace Slacker.Core.Api;

/// <summary>The error codes of docs/API.md, plus the client-side ones for a server that cannot be reached.</summary>
public static class ErrorCodes
{
    public const string DigestInvalid = "DIGEST_INVALID";
    public const string DigestMismatch = "DIGEST_MISMATCH";
    public const string SizeInvalid = "SIZE_INVALID";
    public const string BodyTooLarge = "BODY_TOO_LARGE";
    public const string BodyTruncated = "BODY_TRUNCATED";
    public const string JsonInvalid = "JSON_INVALID";
    public const string ChunkSizeInvalid = "CHUNK_SIZE_INVALID";
    public const string VolumeUnknown = "VOLUME_UNKNOWN";
    public const string SnapshotUnknown = "SNAPSHOT_UNKNOWN";
    public const string ChunkUnknown = "CHUNK_UNKNOWN";
    public const string PageUnknown = "PAGE_UNKNOWN";
    public const string ProfileUnknown = "PROFILE_UNKNOWN";
    public const string IndexOutOfRange = "INDEX_OUT_OF_RANGE";
    public const string SnapshotInUse = "SNAPSHOT_IN_USE";
    public const string Conflict = "CONFLICT";
    public const string Internal = "INTERNAL";

    /// <summary>Client side: connection refused, DNS failure, reset.</summary>
    public const string ServerUnreachable = "SERVER_UNREACHABLE";

    /// <summary>Client side: the server did not answer in time.</summary>
    public const string ServerTimeout = "SERVER_TIMEOUT";

    /// <summary>Client side: the server answered with bytes that do not match what was asked for.</summary>
    /// <summary>A stored object does not hash to its name: the store is damaged (fsck names it).</summary>
    public const string ObjectCorrupt = "OBJECT_CORRUPT";

    /// <summary>The server is up but a backend of the cluster (PostgreSQL, S3) is not; retry, or use another server.</summary>
    public const string BackendUnavailable = "BACKEND_UNAVAILABLE";

    public const string BadResponse = "BAD_RESPONSE";
}
