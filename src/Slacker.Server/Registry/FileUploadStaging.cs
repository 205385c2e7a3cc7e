namespace Slacker.Server.Registry;

/// <summary>Each upload is one file that PATCH requests append to.</summary>
public sealed class FileUploadStaging(string directory) : IUploadStaging
{
    public async Task CreateAsync(string id, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllBytesAsync(PathOf(id), [], ct);
    }

    public Task<long?> LengthAsync(string id, CancellationToken ct)
    {
        var file = new FileInfo(PathOf(id));
        return Task.FromResult(file.Exists ? file.Length : (long?)null);
    }

    public async Task<long> AppendAsync(string id, Stream body, CancellationToken ct)
    {
        await using var file = new FileStream(PathOf(id), FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await body.CopyToAsync(file, ct);
        return file.Length;
    }

    public Task<Stream> OpenReadAsync(string id, CancellationToken ct) =>
        Task.FromResult<Stream>(new FileStream(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));

    public Task DeleteAsync(string id, CancellationToken ct)
    {
        File.Delete(PathOf(id));
        return Task.CompletedTask;
    }

    private string PathOf(string id) => Path.Combine(directory, id);
}
