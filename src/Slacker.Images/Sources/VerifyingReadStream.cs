using System.Security.Cryptography;
using Slacker.Core.Model;

namespace Slacker.Images.Sources;

/// <summary>
/// Reads a blob and hashes it on the way. It refuses to deliver more bytes than the descriptor's size and, at
/// the end, throws unless exactly that many bytes arrived and they hash to the digest. So a consumer that reads
/// to the end never acts on an unverified blob without finding out.
/// </summary>
public sealed class VerifyingReadStream : ForwardReadStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Digest _expected;
    private readonly long _size;
    private readonly string _what;
    private long _read;
    private bool _verified;

    public VerifyingReadStream(Stream inner, Digest expected, long size, string what)
        : base(inner)
    {
        _expected = expected;
        _size = size;
        _what = what;
    }

    public long BytesRead => _read;

    /// <summary>The digest the bytes must hash to; once <see cref="DrainAndVerify"/> returned, they did.</summary>
    public Digest Expected => _expected;

    public override long Length => _size;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var n = Inner.Read(Clamp(buffer));
        return Account(buffer[..n]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var window = buffer[..ClampLength(buffer.Length)];
        var n = await Inner.ReadAsync(window, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Ask for one byte beyond the declared size so that an over-long blob is noticed instead of silently cut.
    private Span<byte> Clamp(Span<byte> buffer) => buffer[..ClampLength(buffer.Length)];

    private int ClampLength(int length) => (int)Math.Min(length, Math.Max(1, _size - _read + 1));

    private int Account(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            Verify();
            return 0;
        }

        _read += data.Length;
        if (_read > _size)
        {
            throw new BlobVerificationException(BlobProblem.TooLong, $"{_what}: the blob is longer than the {_size} bytes its descriptor declares; the source is corrupt or was tampered with.");
        }

        _hash.AppendData(data);
        return data.Length;
    }

    private void Verify()
    {
        if (_verified)
        {
            return;
        }

        if (_read != _size)
        {
            throw new BlobVerificationException(BlobProblem.Truncated, $"{_what}: the blob ended after {_read} of {_size} bytes; the source is truncated. Fetch or save the image again.");
        }

        Span<byte> actual = stackalloc byte[Digest.Length];
        _hash.GetHashAndReset(actual);
        var digest = new Digest(actual);
        if (digest != _expected)
        {
            throw new BlobVerificationException(BlobProblem.DigestMismatch, $"{_what}: digest mismatch, expected {_expected} but the bytes hash to {digest}; the source is corrupt or was tampered with.");
        }

        _verified = true;
    }

    /// <summary>Reads whatever is left (e.g. tar padding after the end marker) so that the digest is checked.</summary>
    public async Task DrainAndVerifyAsync(CancellationToken cancellationToken = default)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (await ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads whatever is left so that size and digest are checked; throws as a read would.</summary>
    public void DrainAndVerify() => DrainToEnd();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
