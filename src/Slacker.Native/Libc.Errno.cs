using System.Runtime.InteropServices;

namespace Slacker.Native;

/// <summary>
/// The libc calls of every Slacker process, declared once each. Raw file descriptors instead of SafeFileHandle,
/// so that a call on a per-request path (a FUSE read, a cache hit) allocates nothing. Every call that can fail
/// sets errno: read it with <see cref="LastErrno"/> right after the call.
/// </summary>
public static unsafe partial class Libc
{
    private const string Lib = "libc";

    // errno values, identical on x86-64 and arm64.
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;
    public const int ENODATA = 61;
    public const int EPROTO = 71;
    public const int ENOTSUP = 95;
    public const int ECONNABORTED = 103;
    public const int ENOTCONN = 107;

    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>"No such file or directory (errno 2)", for error messages.</summary>
    public static string ErrnoText(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
