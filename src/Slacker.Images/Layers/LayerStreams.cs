using System.IO.Compression;
using ZstdSharp;

namespace Slacker.Images.Layers;

/// <summary>Turns a layer blob into its tar stream, whatever the compression, recognised by magic bytes.</summary>
public static class LayerStreams
{
    public static Stream Decompress(Stream blob) => Decompress(blob, out _);

    /// <summary>As <see cref="Decompress(Stream)"/>; <paramref name="compressed"/> says whether the blob was gzip or zstd.</summary>
    public static Stream Decompress(Stream blob, out bool compressed)
    {
        compressed = true;
        var head = new byte[4];
        var n = blob.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var whole = new PrefixedReadStream(head.AsMemory(0, n), blob);
        if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            return new GZipStream(whole, CompressionMode.Decompress);
        }

        if (n == 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        {
            return new DecompressionStream(whole);
        }

        compressed = false;
        return whole;
    }
}

/// <summary>A few bytes already read, followed by the rest of the stream (which it owns).</summary>
internal sealed class PrefixedReadStream : Stream
{
    private readonly Stream _rest;
    private ReadOnlyMemory<byte> _prefix;

    public PrefixedReadStream(ReadOnlyMemory<byte> prefix, Stream rest)
    {
        _prefix = prefix;
        _rest = rest;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefix.IsEmpty)
        {
            return _rest.Read(buffer);
        }

        var n = Math.Min(buffer.Length, _prefix.Length);
        _prefix.Span[..n].CopyTo(buffer);
        _prefix = _prefix[n..];
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefix.IsEmpty)
        {
            return _rest.ReadAsync(buffer, cancellationToken);
        }

        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rest.Dispose();
        }

        base.Dispose(disposing);
    }
}
