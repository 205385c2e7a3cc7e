using Slacker.Native;
using Slacker.Fuse.Protocol;

namespace Slacker.Fuse;

/// <summary>What both sides agreed on in FUSE_INIT.</summary>
internal readonly record struct FuseConnectionInfo(uint KernelMajor, uint KernelMinor, FuseInitFlags Flags, uint MaxWrite, ushort MaxPages);

/// <summary>
/// Pure FUSE_INIT logic (libfuse _do_init rules): version handshake, capability intersection, buffer limits.
/// </summary>
internal static class FuseInitNegotiation
{
    /// <summary>
    /// What a one-image-file server wants. WRITEBACK_CACHE is deliberately absent: cached dirty pages of the image
    /// would have to be written back through this daemon, which can deadlock under memory pressure when the
    /// image backs a loop device (reference §9), and the loop driver does its own caching above us anyway.
    /// </summary>
    public const FuseInitFlags Wanted =
        FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites | FuseInitFlags.MaxPages | FuseInitFlags.ParallelDirops
        | FuseInitFlags.AsyncDio;

    /// <summary>Background requests (async direct I/O from the loop driver) the kernel may keep in flight.</summary>
    public const ushort MaxBackground = 64;
    public const ushort CongestionThreshold = 48;

    /// <summary>max_write clamped to what the kernel accepts: whole pages, at most max_pages_limit pages.</summary>
    public static int EffectiveMaxWrite(int requested, int pageSize, int maxPagesLimit)
    {
        var pages = Math.Clamp(requested / pageSize, 1, Math.Max(1, maxPagesLimit));
        return Math.Max(4096, pages * pageSize);
    }

    /// <summary>
    /// Builds the INIT reply. Returns 0 with <paramref name="replySize"/> bytes of <paramref name="reply"/> to send,
    /// or a negative errno. <paramref name="done"/> is false when the kernel must send a second INIT (major &gt; 7).
    /// </summary>
    public static int Negotiate(
        in FuseInitIn request,
        int maxWrite,
        int pageSize,
        int maxPagesLimit,
        out FuseInitOut reply,
        out int replySize,
        out bool done,
        out FuseConnectionInfo info)
    {
        reply = default;
        replySize = 0;
        done = false;
        info = default;

        if (request.Major < FuseConstants.KernelVersion)
        {
            return -Libc.EPROTO;
        }

        reply.Major = FuseConstants.KernelVersion;
        reply.Minor = FuseConstants.KernelMinorVersion;
        if (request.Major > FuseConstants.KernelVersion)
        {
            // The kernel retries INIT with our major; nothing else in this reply is read.
            replySize = System.Runtime.CompilerServices.Unsafe.SizeOf<FuseInitOut>();
            return 0;
        }

        if (request.Minor < FuseConstants.MinimumKernelMinorVersion)
        {
            return -Libc.EPROTO;
        }

        var offered = (FuseInitFlags)request.Flags;
        if ((offered & FuseInitFlags.InitExt) != 0)
        {
            offered |= (FuseInitFlags)((ulong)request.Flags2 << 32);
        }

        // Only flags the kernel offered (libfuse want_flags_valid); INIT_EXT only to make flags2 meaningful.
        var granted = Wanted & offered;
        if ((offered & FuseInitFlags.InitExt) != 0)
        {
            granted |= FuseInitFlags.InitExt;
        }

        var pages = (ushort)Math.Min(Math.Max(1, maxPagesLimit), (maxWrite - 1) / pageSize + 1);

        reply.MaxReadahead = request.MaxReadahead;
        reply.Flags = (uint)((ulong)granted & 0xFFFF_FFFF);
        reply.Flags2 = (uint)((ulong)granted >> 32);
        reply.MaxBackground = MaxBackground;
        reply.CongestionThreshold = CongestionThreshold;
        reply.MaxWrite = (uint)maxWrite;
        reply.TimeGran = 1;
        reply.MaxPages = (granted & FuseInitFlags.MaxPages) != 0 ? pages : (ushort)0;

        // Kernels before 7.23 read the 24-byte FUSE_COMPAT_22_INIT_OUT_SIZE reply.
        replySize = request.Minor < 23 ? 24 : System.Runtime.CompilerServices.Unsafe.SizeOf<FuseInitOut>();
        done = true;
        info = new FuseConnectionInfo(
            request.Major,
            Math.Min(request.Minor, FuseConstants.KernelMinorVersion),
            granted,
            (uint)maxWrite,
            reply.MaxPages);
        return 0;
    }
}
