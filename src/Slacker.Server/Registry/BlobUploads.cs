namespace Slacker.Server.Registry;

/// <summary>
/// Upload sessions: staged bytes that PATCH requests append to, and a row naming the session's repository. The
/// blob only enters the chunk store, verified, when the final PUT gives its digest.
/// </summary>
public sealed class BlobUploads(IUploadStaging staging, RegistryStore registry)
{
    public async Task<string> StartAsync(string repo, CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N");
        await staging.CreateAsync(id, ct);
        await registry.AddUploadAsync(id, repo, ct);
        return id;
    }

    /// <summary>The bytes received so far; throws BLOB_UPLOAD_UNKNOWN unless the session exists for this repository.</summary>
    public async Task<long> OffsetAsync(string repo, string id, CancellationToken ct)
    {
        if (!IsWellFormed(id) || await registry.GetUploadRepositoryAsync(id, ct) != repo || await staging.LengthAsync(id, ct) is not { } length)
        {
            throw RegistryApiException.UploadUnknown(id);
        }

        return length;
    }

    public Task<long> AppendAsync(string id, Stream body, CancellationToken ct) => staging.AppendAsync(id, body, ct);

    public Task<Stream> OpenReadAsync(string id, CancellationToken ct) => staging.OpenReadAsync(id, ct);

    public async Task RemoveAsync(string id, CancellationToken ct)
    {
        await staging.DeleteAsync(id, ct);
        await registry.RemoveUploadAsync(id, ct);
    }

    private static bool IsWellFormed(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);
}
