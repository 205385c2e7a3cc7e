using Slacker.Core.Model;

namespace Slacker.Core.Api;

/// <summary>
/// The errors of docs/API.md with their status codes and messages, in one place, so that the engine and the
/// HTTP layer say the same thing for the same problem and every message says what to do.
/// </summary>
public static class BlockStoreErrors
{
    public static BlockStoreException DigestInvalid(string? text, string what = "digest") =>
        new(400, ErrorCodes.DigestInvalid, $"{what} '{Trim(text)}' is not a digest: write 'sha256:' followed by 64 lowercase hex digits.");

    public static BlockStoreException DigestMismatch(Digest expected, long length) =>
        new(400, ErrorCodes.DigestMismatch, $"the {length} bytes sent do not hash to {expected}: hash the exact bytes you send (SHA-256) and name them by that digest.");

    public static BlockStoreException BodyTooLarge(long limit, string what = "a chunk") =>
        new(413, ErrorCodes.BodyTooLarge, $"{what} may be at most {limit} bytes: split the data into smaller pieces.");

    public static BlockStoreException BodyTruncated(long? expected, string detail) =>
        new(400, ErrorCodes.BodyTruncated, $"the request body ended before the {expected?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "announced"} bytes of Content-Length arrived ({detail}): resend the whole body.");

    public static BlockStoreException SizeInvalid(string detail) => new(400, ErrorCodes.SizeInvalid, detail);

    public static BlockStoreException JsonInvalid(string detail) =>
        new(400, ErrorCodes.JsonInvalid, $"the request body is not valid JSON for this call ({detail}): see docs/API.md for the document's shape.");

    public static BlockStoreException ChunkSizeInvalid(string detail) => new(400, ErrorCodes.ChunkSizeInvalid, detail);

    public static BlockStoreException VolumeUnknown(string id) =>
        new(404, ErrorCodes.VolumeUnknown, $"volume '{Trim(id)}' does not exist: list volumes with GET /api/v1/volumes (`slacker` volume ids look like vol-…).");

    public static BlockStoreException SnapshotUnknown(Digest id) =>
        new(404, ErrorCodes.SnapshotUnknown, $"snapshot {id} does not exist (or gc removed it after it was released): list snapshots with GET /api/v1/snapshots.");

    public static BlockStoreException ChunkUnknown(Digest digest) =>
        new(404, ErrorCodes.ChunkUnknown, $"chunk {digest} is not on the server: upload it with PUT /api/v1/chunks/{digest}.");

    public static BlockStoreException ChunksNotUploaded(IReadOnlyList<Digest> missing) =>
        new(400, ErrorCodes.ChunkUnknown,
            $"{missing.Count} chunk(s) named by the map are not on the server, first {missing[0]}: upload them with PUT /api/v1/chunks/{{digest}} (ask POST /api/v1/chunks/missing which), then repeat the map update. Nothing was applied.");

    public static BlockStoreException PageUnknown(Digest digest) =>
        new(404, ErrorCodes.PageUnknown, $"block-map page {digest} is not on the server: page digests come from a snapshot root (GET /api/v1/snapshots/{{id}}/root).");

    public static BlockStoreException ProfileUnknown(Digest snapshot) =>
        new(404, ErrorCodes.ProfileUnknown, $"snapshot {snapshot} has no startup profile yet: a node records one the first time a container of it runs (PUT /api/v1/snapshots/{{id}}/profile).");

    public static BlockStoreException IndexOutOfRange(long index, long chunkCount, string volumeId) =>
        new(400, ErrorCodes.IndexOutOfRange, $"chunk index {index} is outside volume {volumeId}, which has chunks 0..{chunkCount - 1}. Nothing was applied.");

    public static BlockStoreException TooMany(string what, int count, int limit) =>
        new(400, ErrorCodes.SizeInvalid, $"{count} {what} in one request; the limit is {limit}: split the request.");

    public static BlockStoreException Internal(string detail) =>
        new(500, ErrorCodes.Internal, $"{detail}: run `slacker fsck --data DIR` on the server's data directory to see what is damaged.");

    private static string Trim(string? text) => text is null ? "(none)" : text.Length > 100 ? text[..100] + "…" : text;
}
