using Slacker.Native;

namespace Slacker.Images.Export;

/// <summary>
/// How overlayfs marks changes in its upper dir: a whiteout is a 0/0 character device (or a file with the
/// overlay.whiteout xattr), an opaque dir has overlay.opaque=y. Both trusted.* (root) and user.* (userxattr)
/// namespaces are recognised.
/// </summary>
internal static class OverlayUpper
{
    public static bool IsWhiteout(in Statx st, SortedDictionary<string, byte[]> xattrs) =>
        (st.Type == Libc.S_IFCHR && st.RdevMajor == 0 && st.RdevMinor == 0)
        || (st.Type == Libc.S_IFREG && (xattrs.ContainsKey("trusted.overlay.whiteout") || xattrs.ContainsKey("user.overlay.whiteout")));

    public static bool IsOpaque(SortedDictionary<string, byte[]> xattrs) =>
        (xattrs.TryGetValue("trusted.overlay.opaque", out var v) || xattrs.TryGetValue("user.overlay.opaque", out v))
        && v.AsSpan().SequenceEqual("y"u8);

    /// <summary>overlayfs's own bookkeeping, which describes the upper dir and not the files.</summary>
    public static bool IsPrivate(string xattr) =>
        xattr.StartsWith("trusted.overlay.", StringComparison.Ordinal) || xattr.StartsWith("user.overlay.", StringComparison.Ordinal);

    /// <summary>A renamed directory or a metadata-only copy-up leaves data in the lower dir, which a layer of the upper dir alone would lose.</summary>
    public static void RejectIncomplete(string path, SortedDictionary<string, byte[]> xattrs)
    {
        foreach (var name in xattrs.Keys)
        {
            if (name.EndsWith(".overlay.redirect", StringComparison.Ordinal) || name.EndsWith(".overlay.metacopy", StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"{path} carries {name}: the upper dir was made with redirect_dir or metacopy on, so it does not hold the whole change. Mount the overlay with redirect_dir=off,metacopy=off.");
            }
        }
    }
}
