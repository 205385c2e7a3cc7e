using System.Security.Cryptography;
using System.Text;

namespace Slacker.Bench.Build;

/// <summary>Hashes the parts that decide a cached artifact, so any change to them makes a new key.</summary>
internal sealed class CacheKey : IDisposable
{
    /// <summary>Bumped when the builder's output for the same definition changes.</summary>
    public const string BuilderVersion = "hellobench-builder-1";

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public CacheKey(string kind)
    {
        Add(BuilderVersion).Add(kind);
    }

    public CacheKey Add(string? part)
    {
        var bytes = Encoding.UTF8.GetBytes(part ?? "\0null");
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
        _hash.AppendData(length);
        _hash.AppendData(bytes);
        return this;
    }

    public CacheKey Add(IEnumerable<string> parts)
    {
        var list = parts.ToList();
        Add(list.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var part in list)
        {
            Add(part);
        }

        return this;
    }

    public CacheKey AddBytes(ReadOnlySpan<byte> bytes)
    {
        Add(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _hash.AppendData(bytes);
        return this;
    }

    /// <summary>24 hex digits: short enough for paths, long enough never to collide in one cache.</summary>
    public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset())[..24];

    public void Dispose() => _hash.Dispose();
}
