using System.Globalization;
using Slacker.Server.Registry;

namespace Slacker.Server.Storage.S3;

/// <summary>
/// Open blob uploads as S3 objects <c>uploads/ID/NNNNNN</c>, one per PATCH, so that any server of a cluster can
/// take the next chunk or the final PUT. An empty part 0 marks a started upload.
/// </summary>
public sealed class S3UploadStaging(S3Bucket bucket, string spoolDirectory) : IUploadStaging
{
    private readonly string _prefix = bucket.Location.Prefix + "uploads/";

    public Task CreateAsync(string id, CancellationToken ct) => bucket.PutAsync(PartKey(id, 0), ReadOnlyMemory<byte>.Empty, ct);

    public async Task<long?> LengthAsync(string id, CancellationToken ct)
    {
        var parts = await PartsAsync(id, ct);
        return parts.Count == 0 ? null : parts.Sum(p => p.Size);
    }

    public async Task<long> AppendAsync(string id, Stream body, CancellationToken ct)
    {
        // S3 needs the length before the body: spool the request locally first.
        Directory.CreateDirectory(spoolDirectory);
        await using var spool = new FileStream(Path.Join(spoolDirectory, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await body.CopyToAsync(spool, ct);
        var parts = await PartsAsync(id, ct);
        if (spool.Length > 0)
        {
            spool.Position = 0;
            await bucket.PutStreamAsync(PartKey(id, parts.Count), spool, ct);
        }

        return parts.Sum(p => p.Size) + spool.Length;
    }

    public async Task<Stream> OpenReadAsync(string id, CancellationToken ct) =>
        new ConcatenatedStream(bucket, (await PartsAsync(id, ct)).Where(p => p.Size > 0).Select(p => p.Key).ToList());

    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        foreach (var part in await PartsAsync(id, ct))
        {
            await bucket.DeleteAsync(part.Key, ct);
        }
    }

    private async Task<List<S3Entry>> PartsAsync(string id, CancellationToken ct)
    {
        var parts = new List<S3Entry>();
        await foreach (var entry in bucket.ListAsync(_prefix + id + "/", ct))
        {
            parts.Add(entry);
        }

        return parts;
    }

    private string PartKey(string id, int part) => _prefix + id + "/" + part.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The parts read one after another, each opened when the previous one ends.</summary>
    private sealed class ConcatenatedStream(S3Bucket bucket, List<string> keys) : Stream
    {
        private int _next;
        private Amazon.S3.Model.GetObjectResponse? _current;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                if (_current is null)
                {
                    if (_next == keys.Count)
                    {
                        return 0;
                    }

                    _current = await bucket.GetAsync(keys[_next], cancellationToken)
                        ?? throw new IOException($"Part {keys[_next]} of an upload vanished: start the upload again.");
                    _next++;
                }

                var read = await _current.ResponseStream.ReadAsync(buffer, cancellationToken);
                if (read > 0 || buffer.Length == 0)
                {
                    return read;
                }

                _current.Dispose();
                _current = null;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _current?.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
