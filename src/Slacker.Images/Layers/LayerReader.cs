using System.Formats.Tar;
using System.Text;
using Slacker.Core.Model;
using Slacker.Images.Sources;

namespace Slacker.Images.Layers;

/// <summary>
/// Reads one layer blob as a sequence of validated entries. Every rule that can be judged from the tar alone
/// (names, duplicates, sizes, budgets, whiteout conflicts, entry types) is enforced here, so the scan pass
/// and the apply pass refuse exactly the same layers. All failures surface as <see cref="LayerRejectedException"/>.
/// </summary>
public sealed class LayerReader : IDisposable
{
    private const string XattrPrefix = "SCHILY.xattr.";

    private readonly VerifyingReadStream? _blob;
    private readonly TarByteCounter _counter;
    private readonly TarReader _tar;
    private readonly UncompressedBudget _budget;
    private readonly LayerLimits _limits;
    private readonly SortedSet<string> _paths = new(StringComparer.Ordinal);
    private readonly XattrTap _tap;
    private int _entries;
    private readonly bool _diffIdIsBlobDigest;

    public LayerReader(Stream blob, string layer, UncompressedBudget budget, LayerLimits limits, bool computeDiffId)
    {
        Layer = layer;
        _budget = budget;
        _limits = limits;
        _blob = blob as VerifyingReadStream;
        Stream tarStream;
        try
        {
            tarStream = LayerStreams.Decompress(blob, out var compressed);
            // An uncompressed blob is its own tar: its verified digest is the diff_id, so it is not hashed twice.
            _diffIdIsBlobDigest = !compressed && _blob is not null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or BlobVerificationException)
        {
            throw Translate(e, null);
        }

        _counter = new TarByteCounter(tarStream, budget, computeDiffId && !_diffIdIsBlobDigest, () => new LayerRejectedException(Layer, null, LayerRule.DecompressionLimit,
            $"the image unpacks to more than {budget.Limit} bytes (the limit); this is a decompression bomb or a larger image than allowed. Raise the limit (--max-unpacked-bytes) only if you trust the image."));
        _tap = new XattrTap(_counter);
        _tar = new TarReader(_tap, leaveOpen: true);
    }

    public string Layer { get; }

    /// <summary>True when an entry of this layer (read so far) created <paramref name="path"/>.</summary>
    public bool CreatedInThisLayer(string path) => _paths.Contains(path);

    public LayerEntry? Next()
    {
        while (true)
        {
            TarEntry? tar;
            try
            {
                tar = _tar.GetNextEntry(copyData: false);
            }
            catch (Exception e) when (e is not LayerRejectedException)
            {
                throw Translate(e, null);
            }

            if (tar is null)
            {
                if (!_tap.EndedCleanly)
                {
                    throw new LayerRejectedException(Layer, null, LayerRule.Truncated,
                        "the tar stream ends without its end-of-archive blocks: the layer (or its compressed stream) was cut short. Fetch or save the image again.");
                }

                return null;
            }

            if (++_entries > _limits.MaxEntriesPerLayer)
            {
                throw new LayerRejectedException(Layer, tar.Name, LayerRule.TooManyEntries, $"the layer has more than {_limits.MaxEntriesPerLayer} entries.");
            }

            if (tar.EntryType == TarEntryType.GlobalExtendedAttributes)
            {
                continue;
            }

            var entry = Validate(tar);
            if (entry is not null)
            {
                return entry;
            }
        }
    }

    private LayerEntry? Validate(TarEntry tar)
    {
        var name = tar.Name;
        if (TarPath.TryNormalize(name, out var path, out var problem) is { } rule)
        {
            throw new LayerRejectedException(Layer, name, rule, problem + ". Rebuild the layer with relative paths inside the image.");
        }

        if (tar.Length > _budget.Remaining)
        {
            throw new LayerRejectedException(Layer, name, LayerRule.EnormousSize,
                $"the header claims {tar.Length} bytes of data, more than the {_budget.Remaining} bytes left of the image's unpack limit; the header is forged or the image is too large (raise --max-unpacked-bytes if you trust it).");
        }

        var baseName = TarPath.Name(path);
        if (baseName.StartsWith(TarPath.WhiteoutPrefix, StringComparison.Ordinal))
        {
            return ValidateWhiteout(tar, name, path, baseName);
        }

        var kind = tar.EntryType switch
        {
            TarEntryType.Directory => LayerEntryKind.Directory,
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => LayerEntryKind.File,
            TarEntryType.SymbolicLink => LayerEntryKind.Symlink,
            TarEntryType.HardLink => LayerEntryKind.HardLink,
            TarEntryType.CharacterDevice => LayerEntryKind.CharDevice,
            TarEntryType.BlockDevice => LayerEntryKind.BlockDevice,
            TarEntryType.Fifo => LayerEntryKind.Fifo,
            _ => throw new LayerRejectedException(Layer, name, LayerRule.UnsupportedEntry,
                $"entry type {tar.EntryType} ('{(char)tar.EntryType}') is not supported in image layers; rebuild the layer with docker/buildkit or a plain 'tar --format=pax'."),
        };

        if (path.Length == 0 && kind != LayerEntryKind.Directory)
        {
            throw new LayerRejectedException(Layer, name, LayerRule.PathTraversal, "the entry names the image root but is not a directory.");
        }

        string? linkTarget = null;
        if (kind == LayerEntryKind.Symlink)
        {
            linkTarget = tar.LinkName;
            if (string.IsNullOrEmpty(linkTarget) || linkTarget.Contains('\0', StringComparison.Ordinal))
            {
                throw new LayerRejectedException(Layer, name, LayerRule.MalformedTar, "the symlink has an empty target.");
            }
        }
        else if (kind == LayerEntryKind.HardLink)
        {
            var linkRule = TarPath.TryNormalize(tar.LinkName, out var target, out var linkProblem);
            if (linkRule is not null || target.Length == 0)
            {
                throw new LayerRejectedException(Layer, name, LayerRule.HardLinkOutside,
                    $"the hard link points to '{tar.LinkName}': {linkProblem ?? "the image root itself"}. A hard link may only name a file inside the image.");
            }

            linkTarget = target;
        }

        Claim(path, name);
        return new LayerEntry(tar, name, path, kind, linkTarget, ReadXattrs(tar, name));
    }

    private LayerEntry? ValidateWhiteout(TarEntry tar, string name, string path, string baseName)
    {
        var parent = TarPath.Parent(path);
        if (baseName == TarPath.OpaqueMarker)
        {
            Claim(path, name);
            return new LayerEntry(tar, name, parent, LayerEntryKind.Opaque, null, []);
        }

        if (baseName.StartsWith(TarPath.WhiteoutMetaPrefix, StringComparison.Ordinal))
        {
            // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): docker skips these too.
            return null;
        }

        var victim = baseName[TarPath.WhiteoutPrefix.Length..];
        if (victim.Length == 0 || victim == "." || victim == "..")
        {
            throw new LayerRejectedException(Layer, name, LayerRule.WhiteoutOfRoot,
                $"the whiteout '{baseName}' would delete {(parent.Length == 0 ? "the image root" : $"'{parent}' or its parent")}; a whiteout names one file or directory. The layer is corrupt or hostile.");
        }

        var target = TarPath.Join(parent, victim);
        var below = _paths.GetViewBetween(target + "/", target + "/\uffff");
        if (_paths.Contains(target) || below.Count > 0)
        {
            throw new LayerRejectedException(Layer, name, LayerRule.WhiteoutConflict,
                $"the whiteout deletes '{target}', which this same layer created earlier; whiteouts apply to lower layers only, so the layer is malformed. Rebuild it.");
        }

        Claim(path, name);
        return new LayerEntry(tar, name, target, LayerEntryKind.Whiteout, null, []);
    }

    private void Claim(string path, string name)
    {
        if (!_paths.Add(path))
        {
            throw new LayerRejectedException(Layer, name, LayerRule.DuplicateEntry,
                $"'{(path.Length == 0 ? "/" : path)}' appears twice in the layer; which copy wins would depend on the tool. Rebuild the layer so each path appears once.");
        }
    }

    private List<KeyValuePair<string, byte[]>> ReadXattrs(TarEntry tar, string name)
    {
        var list = new List<KeyValuePair<string, byte[]>>();
        if (tar is not PaxTarEntry pax)
        {
            return list;
        }

        var raw = _tap.TakeRawRecords(_entries);
        foreach (var (key, value) in pax.ExtendedAttributes)
        {
            if (!key.StartsWith(XattrPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var attribute = key[XattrPrefix.Length..];
            // Binary values (security.capability) are not UTF-8; take the raw bytes the tap saw when it has them.
            var bytes = raw?.GetValueOrDefault(key) is { } rawValue && Encoding.UTF8.GetString(rawValue) == value
                ? rawValue
                : Encoding.UTF8.GetBytes(value);
            if (bytes.Length > _limits.MaxXattrValueBytes)
            {
                throw new LayerRejectedException(Layer, name, LayerRule.EnormousSize, $"extended attribute {attribute} is {bytes.Length} bytes; the limit is {_limits.MaxXattrValueBytes}.");
            }

            list.Add(new(attribute, bytes));
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return list;
    }

    /// <summary>Reads to the end of the blob and returns the diff_id (SHA-256 of the tar); throws if the blob's own digest is wrong.</summary>
    public Digest Finish()
    {
        try
        {
            _counter.DrainToEnd();
            _blob?.DrainAndVerify();
            return _diffIdIsBlobDigest ? _blob!.Expected : _counter.Finish();
        }
        catch (Exception e) when (e is not LayerRejectedException)
        {
            throw Translate(e, null);
        }
    }

    /// <summary>Drains the blob (checking its digest) without computing a diff id.</summary>
    public void FinishWithoutDiffId()
    {
        try
        {
            _counter.DrainToEnd();
            _blob?.DrainAndVerify();
        }
        catch (Exception e) when (e is not LayerRejectedException)
        {
            throw Translate(e, null);
        }
    }

    public long UncompressedBytes => _counter.Count;

    internal LayerRejectedException Translate(Exception e, string? entry)
    {
        // A blob that is not what its digest says often fails to decompress first; the digest is the real story.
        if (e is not BlobVerificationException and not LayerRejectedException && _blob is not null && BlobMismatch() is { } mismatch)
        {
            return new LayerRejectedException(Layer, entry, LayerRule.DigestMismatch, mismatch.Message, mismatch);
        }

        return TranslateOne(e, entry);
    }

    private BlobVerificationException? BlobMismatch()
    {
        try
        {
            _blob!.DrainAndVerify();
            return null;
        }
        catch (BlobVerificationException e)
        {
            return e;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private LayerRejectedException TranslateOne(Exception e, string? entry) => e switch
    {
        LayerRejectedException rejected => rejected,
        BlobVerificationException { Problem: BlobProblem.Truncated } => new LayerRejectedException(Layer, entry, LayerRule.Truncated, e.Message, e),
        BlobVerificationException => new LayerRejectedException(Layer, entry, LayerRule.DigestMismatch, e.Message, e),
        EndOfStreamException => new LayerRejectedException(Layer, entry, LayerRule.Truncated,
            "the tar stream ends in the middle of an entry; the layer is truncated. Fetch or save the image again.", e),
        InvalidDataException when e.StackTrace?.Contains("Compression", StringComparison.Ordinal) == true || e.InnerException is not null =>
            new LayerRejectedException(Layer, entry, LayerRule.Truncated, $"the compressed stream is corrupt or cut short ({e.Message}); fetch or save the image again.", e),
        InvalidDataException or FormatException or ArgumentException or OverflowException =>
            new LayerRejectedException(Layer, entry, LayerRule.MalformedTar, $"the tar stream is malformed ({e.Message}); the layer is corrupt.", e),
        ZstdSharp.ZstdException => new LayerRejectedException(Layer, entry, LayerRule.Truncated, $"the zstd stream is corrupt or cut short ({e.Message}); fetch or save the image again.", e),
        _ => new LayerRejectedException(Layer, entry, LayerRule.FileSystemError, e.Message, e),
    };

    public void Dispose()
    {
        _tar.Dispose();
        _tap.Dispose();
        _counter.Dispose();
    }
}
