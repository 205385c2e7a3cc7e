namespace Slacker.Images.Layers;

/// <summary>The rules a layer tarball must obey; a refusal names one of them.</summary>
public enum LayerRule
{
    PathTraversal,
    AbsolutePath,
    SymlinkEscape,
    HardLinkOutside,
    HardLinkTarget,
    EnormousSize,
    DecompressionLimit,
    TooManyEntries,
    Truncated,
    DuplicateEntry,
    WhiteoutOfRoot,
    WhiteoutConflict,
    UnsupportedEntry,
    MalformedTar,
    DigestMismatch,
    NoSpace,
    FileSystemError,
}

/// <summary>
/// A layer was refused. The message names the layer digest, the entry and the rule, and says what to do;
/// nothing was committed to any store.
/// </summary>
public sealed class LayerRejectedException : Exception
{
    public LayerRejectedException(string layer, string? entry, LayerRule rule, string detail, Exception? inner = null)
        : base(Format(layer, entry, rule, detail), inner)
    {
        Layer = layer;
        Entry = entry;
        Rule = rule;
    }

    public LayerRejectedException() { }

    public LayerRejectedException(string message) : base(message) { }

    public LayerRejectedException(string message, Exception inner) : base(message, inner) { }

    public string Layer { get; } = "";

    public string? Entry { get; }

    public LayerRule Rule { get; }

    public static string RuleName(LayerRule rule) => rule switch
    {
        LayerRule.PathTraversal => "path-traversal",
        LayerRule.AbsolutePath => "absolute-path",
        LayerRule.SymlinkEscape => "symlink-escape",
        LayerRule.HardLinkOutside => "hardlink-outside",
        LayerRule.HardLinkTarget => "hardlink-target",
        LayerRule.EnormousSize => "enormous-size",
        LayerRule.DecompressionLimit => "decompression-limit",
        LayerRule.TooManyEntries => "too-many-entries",
        LayerRule.Truncated => "truncated",
        LayerRule.DuplicateEntry => "duplicate-entry",
        LayerRule.WhiteoutOfRoot => "whiteout-of-root",
        LayerRule.WhiteoutConflict => "whiteout-conflict",
        LayerRule.UnsupportedEntry => "unsupported-entry",
        LayerRule.MalformedTar => "malformed-tar",
        LayerRule.DigestMismatch => "digest-mismatch",
        LayerRule.NoSpace => "no-space",
        _ => "file-system-error",
    };

    private static string Format(string layer, string? entry, LayerRule rule, string detail) =>
        $"Layer {layer}{(entry is null ? "" : $", entry '{entry}'")}: refused by rule {RuleName(rule)}: {detail}";
}
