using System.Security.Cryptography;
using Amazon.S3.Model;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Server.Storage.S3;

/// <summary>
/// An S3 object streamed out while it is hashed: reaching the end with the wrong hash throws
/// <see cref="CorruptObjectException"/>, so the response breaks instead of completing with bad bytes. Seeking
/// forward (a ranged GET) reads through the skipped bytes; the hash of a partial read cannot be checked.
/// </summary>
internal sealed class VerifyingStream(GetObjectResponse response, Digest digest, string store) : Stream
{
    private readonly Stream _inner = response.ResponseStream;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length { get; } = response.ContentLength;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        Advance(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken);
        Advance(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        if (target < _position || target > Length)
        {
            throw new NotSupportedException($"An S3 object stream only seeks forward within its {Length} bytes.");
        }

        var skip = new byte[64 * 1024];
        while (_position < target)
        {
            if (Read(skip.AsSpan(0, (int)Math.Min(skip.Length, target - _position))) == 0)
            {
                throw new EndOfStreamException($"Object {digest} in {store} ended at {_position} of {Length} bytes.");
            }
        }

        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Advance(ReadOnlySpan<byte> read)
    {
        _hash.AppendData(read);
        _position += read.Length;
        if (read.Length == 0 || _position != Length)
        {
            return;
        }

        var actual = new Digest(_hash.GetHashAndReset());
        if (actual != digest)
        {
            throw new CorruptObjectException(store, digest, $"{Length} bytes hash to {actual}");
        }
    }
}
