using Slacker.Core.Model;

namespace Slacker.Bench.Oci;

/// <summary>A gzip layer in a blob store: its digest (of the gzip bytes) and diff_id (of the tar).</summary>
public sealed record LayerBlob(Digest Digest, Digest DiffId, long Size, long UncompressedSize, int Entries);
