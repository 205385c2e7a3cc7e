namespace Slacker.Fuse;

/// <summary>Serves the bytes of the single file. Called concurrently from several FUSE reader threads; may block.</summary>
public interface IFuseFile
{
    long Size { get; }

    bool ReadOnly { get; }

    /// <summary>Fill destination from offset. Returns bytes read (0..destination.Length; short only at EOF) or a negative errno.</summary>
    int Read(long offset, Span<byte> destination);

    /// <summary>Returns bytes written or a negative errno (e.g. -EROFS, -EIO, -ENOSPC).</summary>
    int Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>fsync/fdatasync of the file: everything written before must be durable when this returns 0.</summary>
    int Fsync(bool dataOnly);

    /// <summary>close(2) of one fd (FUSE_FLUSH). Return 0 or -errno.</summary>
    int Flush();
}
