namespace Slacker.Server.Registry;

/// <summary>
/// Where the bytes of an open blob upload wait for the final PUT: a directory of the embedded server, or
/// objects in S3 for a cluster, where the PATCHes of one upload may reach different servers.
/// </summary>
public interface IUploadStaging
{
    Task CreateAsync(string id, CancellationToken ct);

    /// <summary>The bytes received so far, or null if the upload has no staging (never started, or removed).</summary>
    Task<long?> LengthAsync(string id, CancellationToken ct);

    /// <summary>Appends the whole body; returns the new length.</summary>
    Task<long> AppendAsync(string id, Stream body, CancellationToken ct);

    /// <summary>Every byte received, in order.</summary>
    Task<Stream> OpenReadAsync(string id, CancellationToken ct);

    Task DeleteAsync(string id, CancellationToken ct);
}
