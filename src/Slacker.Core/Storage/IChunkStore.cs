using Slacker.Core.Model;

namespace Slacker.Core.Storage;

/// <summary>
/// A content-addressed object store: volume chunks, block-map pages and (for the registry) OCI blobs of any
/// size. Every object is stored under the SHA-256 of its bytes and verified on the way in. Implementations:
/// a local directory (embedded default); S3-compatible storage for scale-out.
/// </summary>
/// <remarks>
/// "Touched" time is what gc's grace period is measured against: a put or touch marks an object as wanted now,
/// and <see cref="DeleteIfUntouchedSinceAsync"/> must be atomic with respect to touches, so a client that was
/// told "you need not upload this" can always still reference it.
/// </remarks>
public interface IChunkStore
{
    /// <summary>Verifies that <paramref name="data"/> hashes to <paramref name="digest"/> and stores it durably.
    /// True if newly stored; false if it was present (then it is touched).</summary>
    /// <exception cref="DigestMismatchException">The data does not hash to the digest.</exception>
    ValueTask<bool> PutAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>
    /// Streams an object of any size in, hashing as it goes, and stores it only if it hashes to
    /// <paramref name="expected"/> (when given) and is at most <paramref name="maxLength"/> bytes.
    /// Nothing is stored when it fails.
    /// </summary>
    /// <exception cref="DigestMismatchException">The content does not hash to <paramref name="expected"/>.</exception>
    /// <exception cref="ObjectTooLargeException">More than <paramref name="maxLength"/> bytes arrived.</exception>
    Task<BlobPutResult> PutStreamAsync(Stream content, Digest? expected, long maxLength, CancellationToken ct = default);

    /// <summary>The object's length, or null if it is absent.</summary>
    async ValueTask<long?> GetLengthAsync(Digest digest, CancellationToken ct = default) => (await GetLengthsAsync([digest], ct))[0];

    /// <summary>Each object's length in the order asked, null where absent: one round trip for a remote index.</summary>
    ValueTask<long?[]> GetLengthsAsync(IReadOnlyList<Digest> digests, CancellationToken ct = default);

    /// <summary>How many reads a batch reader should keep in flight: 1 for a local disk, more for a remote store.</summary>
    int ReadConcurrency => 1;

    /// <summary>Reads a whole object into memory (chunks and pages; use <see cref="OpenReadAsync"/> for blobs). Null if absent.</summary>
    ValueTask<byte[]?> ReadAllAsync(Digest digest, CancellationToken ct = default);

    /// <summary>
    /// Reads the object's first <paramref name="destination"/>.Length bytes into <paramref name="destination"/> (the
    /// batch download fills its response buffer with it, one read per chunk). False if the object is absent.
    /// </summary>
    /// <exception cref="IOException">The object is shorter than <paramref name="destination"/>: the store is damaged.</exception>
    ValueTask<bool> ReadIntoAsync(Digest digest, Memory<byte> destination, CancellationToken ct = default);

    /// <summary>Opens the object for streaming. The stream's Length is the object's length. Null if absent.</summary>
    ValueTask<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default);

    /// <summary>Marks the object as wanted now (for gc's grace period). False if it is absent.</summary>
    async ValueTask<bool> TouchAsync(Digest digest, CancellationToken ct = default) => (await TouchAsync([digest], ct)).Count > 0;

    /// <summary>Marks every present object of <paramref name="digests"/> as wanted now and returns those that are present.</summary>
    ValueTask<IReadOnlySet<Digest>> TouchAsync(IReadOnlyCollection<Digest> digests, CancellationToken ct = default);

    /// <summary>Every stored object with its length and last touched time.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(CancellationToken ct = default);

    /// <summary>Deletes the object unless it was touched at or after <paramref name="cutoff"/>; atomic against touches and puts.</summary>
    ValueTask<bool> DeleteIfUntouchedSinceAsync(Digest digest, DateTimeOffset cutoff, CancellationToken ct = default);
}

public readonly record struct StoredObject(Digest Digest, long Length, DateTimeOffset LastTouched);

/// <summary>The outcome of a streamed put: the content's digest and length, and whether it was new.</summary>
public readonly record struct BlobPutResult(Digest Digest, long Length, bool Created);

/// <summary>A stored object whose bytes do not hash to its name: never served, always reported.</summary>
public sealed class CorruptObjectException(string store, Digest digest, string detail)
    : IOException($"Object {digest} in {store} does not hash to its name ({detail}): the object store is damaged. Run `slacker fsck` and restore the object from a copy, or re-push the image that holds it.")
{
    public Digest Digest { get; } = digest;
}

public sealed class ObjectTooLargeException(long maxLength)
    : Exception($"The content is larger than the {maxLength} bytes allowed.")
{
    public long MaxLength { get; } = maxLength;
}
