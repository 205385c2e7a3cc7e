namespace Slacker.Server.Registry;

/// <summary>
/// Upload sessions: each is a file under the server's data directory that PATCH requests append to, and a row
/// naming its repository. The blob only enters the chunk store, verified, when the final PUT gives its digest.
/// </summary>
public sealed class BlobUploads(string directory, RegistryStore registry)
{
    public async Task<string> StartAsync(string repo, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var id = Guid.NewGuid().ToString("N");
        await File.WriteAllBytesAsync(PathOf(id), [], ct);
        await registry.AddUploadAsync(id, repo, ct);
        return id;
    }

    /// <summary>The bytes received so far; throws BLOB_UPLOAD_UNKNOWN unless the session exists for this repository.</summary>
    public async Task<long> OffsetAsync(string repo, string id, CancellationToken ct)
    {
        if (!IsWellFormed(id) || await registry.GetUploadRepositoryAsync(id, ct) != repo || !File.Exists(PathOf(id)))
        {
            throw RegistryApiException.UploadUnknown(id);
        }

        return new FileInfo(PathOf(id)).Length;
    }

    public async Task<long> AppendAsync(string id, Stream body, CancellationToken ct)
    {
        await using var file = new FileStream(PathOf(id), FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await body.CopyToAsync(file, ct);
        return file.Length;
    }

    public Stream OpenRead(string id) => new FileStream(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public async Task RemoveAsync(string id, CancellationToken ct)
    {
        File.Delete(PathOf(id));
        await registry.RemoveUploadAsync(id, ct);
    }

    private static bool IsWellFormed(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    private string PathOf(string id) => Path.Combine(directory, id);
}
