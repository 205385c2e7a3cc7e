using System.IO.Compression;
using Slacker.Images.Sources;
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
internal sealed class PrefixedReadStream(ReadOnlyMemory<byte> prefix, Stream rest) : ForwardReadStream(rest)
{
    private ReadOnlyMemory<byte> _prefix = prefix;

    public override int Read(Span<byte> buffer)
    {
        if (_prefix.IsEmpty)
        {
            return Inner.Read(buffer);
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
            return Inner.ReadAsync(buffer, cancellationToken);
        }

        return ValueTask.FromResult(Read(buffer.Span));
    }
}
