using Slacker.Core.Model;

namespace Slacker.Images.Export;

/// <summary>
/// A layer in a blob store: its digest and size (of the blob as stored, gzip or plain tar), its diff_id and
/// size as tar, and how many tar entries it holds. For a plain tar layer Digest equals DiffId.
/// </summary>
public sealed record LayerBlob(Digest Digest, Digest DiffId, long Size, long UncompressedSize, int Entries);
