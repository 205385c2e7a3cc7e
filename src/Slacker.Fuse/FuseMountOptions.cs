namespace Slacker.Fuse;

public sealed record FuseMountOptions
{
    private static readonly System.Buffers.SearchValues<char> FsNameForbidden = System.Buffers.SearchValues.Create(",. /\t\n\0");

    public string FileName { get; init; } = "volume";

    /// <summary>Cloned /dev/fuse fds, one per thread.</summary>
    public int ReaderThreads { get; init; } = 4;

    /// <summary>1 MiB, with max_pages negotiated; lowered to what /proc/sys/fs/fuse/max_pages_limit allows.</summary>
    public int MaxWrite { get; init; } = 1 << 20;

    public bool AllowOther { get; init; } = true;

    /// <summary>Mount source / subtype shown in /proc/mounts.</summary>
    public string FsName { get; init; } = "slacker";

    /// <summary>How long Unmount waits for the reader threads (and Mount for FUSE_INIT) before giving up.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (string.IsNullOrEmpty(FileName) || FileName is "." or ".." || FileName.Contains('/', StringComparison.Ordinal)
            || FileName.Contains('\0', StringComparison.Ordinal) || System.Text.Encoding.UTF8.GetByteCount(FileName) > 255)
        {
            throw new ArgumentException(
                $"FileName '{FileName}' is not a valid single path component: use 1-255 bytes without '/' or NUL, not '.' or '..'.",
                nameof(FileName));
        }

        if (ReaderThreads is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(ReaderThreads), ReaderThreads, "ReaderThreads must be between 1 and 64.");
        }

        if (MaxWrite < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWrite), MaxWrite, "MaxWrite must be at least 4096 bytes (the kernel minimum).");
        }

        if (string.IsNullOrEmpty(FsName) || FsName.AsSpan().IndexOfAny(FsNameForbidden) >= 0)
        {
            throw new ArgumentException(
                $"FsName '{FsName}' must be a non-empty word without ',', '.', '/', or whitespace (it becomes the fuse.<FsName> subtype).",
                nameof(FsName));
        }

        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "Timeout must be positive.");
        }
    }
}
