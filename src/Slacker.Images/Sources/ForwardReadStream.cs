namespace Slacker.Images.Sources;

/// <summary>
/// The Stream contract of this library's read-side wrappers (a sniffed prefix put back, a window of an archive,
/// the byte budget and diff_id, descriptor verification, the xattr tap): read-only, forward-only, not seekable.
/// Each subclass adds its one job in <see cref="Read(Span{byte})"/>. The inner stream is disposed with the
/// wrapper unless <c>leaveOpen</c>.
/// </summary>
public abstract class ForwardReadStream(Stream inner, bool leaveOpen = false) : Stream
{
    protected Stream Inner { get; } = inner;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public abstract override int Read(Span<byte> buffer);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Reads what is left, discarding it, so that whatever this wrapper checks or hashes at the end is done.</summary>
    public void DrainToEnd()
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (Read(buffer.AsSpan()) > 0)
            {
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
