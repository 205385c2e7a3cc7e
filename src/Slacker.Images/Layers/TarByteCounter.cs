using System.Security.Cryptography;
using Slacker.Images.Sources;

namespace Slacker.Images.Layers;

/// <summary>
/// Sits between the decompressor and the tar reader: counts every uncompressed byte against the image's budget
/// (so a gzip bomb stops at the limit, not at a full disk) and hashes them into the layer's diff_id.
/// </summary>
internal sealed class TarByteCounter : ForwardReadStream
{
    private readonly UncompressedBudget _budget;
    private readonly IncrementalHash? _hash;
    private readonly Func<Exception> _overLimit;

    public TarByteCounter(Stream inner, UncompressedBudget budget, bool hash, Func<Exception> overLimit)
        : base(inner)
    {
        _budget = budget;
        _overLimit = overLimit;
        _hash = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    }

    public long Count { get; private set; }

    public Core.Model.Digest Finish()
    {
        Span<byte> digest = stackalloc byte[32];
        _hash!.GetHashAndReset(digest);
        return new Core.Model.Digest(digest);
    }

    public override long Position
    {
        get => Count;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var n = Inner.Read(buffer);
        Count += n;
        if (!_budget.TryTake(n))
        {
            throw _overLimit();
        }

        _hash?.AppendData(buffer[..n]);
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>What is left of an image's uncompressed-bytes allowance, shared by all its layers.</summary>
public sealed class UncompressedBudget
{
    public UncompressedBudget(long limit)
    {
        Limit = limit;
        Remaining = limit;
    }

    public long Limit { get; }

    public long Remaining { get; private set; }

    public bool TryTake(long bytes)
    {
        Remaining -= bytes;
        return Remaining >= 0;
    }
}
