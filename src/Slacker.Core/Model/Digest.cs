using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Slacker.Core.Model;

/// <summary>
/// A SHA-256 content address. 32 bytes inline, so block-map pages and chunk indexes are plain arrays of
/// digests with no per-entry allocation. The all-zero value is reserved to mean "zero chunk / no page":
/// SHA-256 never produces it in practice, and it lets an uninitialised map read as an all-zero volume.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Length)]
public readonly struct Digest : IEquatable<Digest>, IComparable<Digest>, ISpanFormattable
{
    public const int Length = 32;
    public const string Prefix = "sha256:";
    public const int StringLength = 7 + (2 * Length);

    private readonly ulong _a, _b, _c, _d;

    public static Digest Zero => default;

    public bool IsZero => (_a | _b | _c | _d) == 0;

    public Digest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A SHA-256 digest is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        this = MemoryMarshal.Read<Digest>(bytes);
    }

    public ReadOnlySpan<byte> AsSpan() =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in this), 1));

    public void CopyTo(Span<byte> destination) => AsSpan().CopyTo(destination);

    public static Digest Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA256.HashData(data, hash);
        return new Digest(hash);
    }

    public static async Task<Digest> ComputeAsync(Stream data, CancellationToken cancellationToken = default)
    {
        var hash = await SHA256.HashDataAsync(data, cancellationToken).ConfigureAwait(false);
        return new Digest(hash);
    }

    /// <summary>True when the data hashes to this digest. The one place where trust in fetched bytes is decided.</summary>
    public bool Matches(ReadOnlySpan<byte> data) => Compute(data) == this;

    /// <summary>Parses "sha256:" followed by 64 lowercase hex digits; anything else is rejected.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Digest digest)
    {
        digest = default;
        if (text.Length != StringLength || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var hex = text[Prefix.Length..];
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            return false;
        }

        digest = new Digest(bytes);
        return true;
    }

    public static Digest Parse(string text) =>
        TryParse(text, out var digest)
            ? digest
            : throw new FormatException($"'{text}' is not a digest: expected 'sha256:' and 64 lowercase hex digits.");

    /// <summary>The 64 hex digits without the algorithm prefix, as used for file names.</summary>
    public string Hex => Convert.ToHexStringLower(AsSpan());

    public override string ToString() => Prefix + Hex;

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (destination.Length < StringLength)
        {
            charsWritten = 0;
            return false;
        }

        Prefix.CopyTo(destination);
        Convert.TryToHexStringLower(AsSpan(), destination[Prefix.Length..], out var hexWritten);
        charsWritten = Prefix.Length + hexWritten;
        return true;
    }

    public bool Equals(Digest other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is Digest other && Equals(other);

    // The digest is already uniformly distributed; any 8 bytes of it are a good hash.
    public override int GetHashCode() => (int)_a;

    public int CompareTo(Digest other)
    {
        var c = BinaryPrimitives.ReverseEndianness(_a).CompareTo(BinaryPrimitives.ReverseEndianness(other._a));
        if (c != 0) return c;
        c = BinaryPrimitives.ReverseEndianness(_b).CompareTo(BinaryPrimitives.ReverseEndianness(other._b));
        if (c != 0) return c;
        c = BinaryPrimitives.ReverseEndianness(_c).CompareTo(BinaryPrimitives.ReverseEndianness(other._c));
        return c != 0 ? c : BinaryPrimitives.ReverseEndianness(_d).CompareTo(BinaryPrimitives.ReverseEndianness(other._d));
    }

    public static bool operator ==(Digest left, Digest right) => left.Equals(right);

    public static bool operator !=(Digest left, Digest right) => !left.Equals(right);

    public static bool operator <(Digest left, Digest right) => left.CompareTo(right) < 0;

    public static bool operator >(Digest left, Digest right) => left.CompareTo(right) > 0;

    public static bool operator <=(Digest left, Digest right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Digest left, Digest right) => left.CompareTo(right) >= 0;
}
