namespace Slacker.Fuse.Native;

/// <summary>Linux errno values (identical on x86-64 and arm64) used by the FUSE server and its handlers.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENOSYS = 38;
    public const int EPROTO = 71;
    public const int ECONNABORTED = 103;
    public const int ENOTCONN = 107;

    /// <summary>The kernel accepts reply errors only in (-512, 0).</summary>
    internal const int MaxErrno = 511;
}
