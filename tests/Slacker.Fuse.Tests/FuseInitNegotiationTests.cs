using Slacker.Native;
using Slacker.Fuse.Protocol;

namespace Slacker.Fuse.Tests;

public sealed class FuseInitNegotiationTests
{
    private const int Page = 4096;

    private static FuseInitIn Request(uint major, uint minor, FuseInitFlags offered)
    {
        var request = new FuseInitIn
        {
            Major = major,
            Minor = minor,
            MaxReadahead = 128 * 1024,
            Flags = (uint)((ulong)offered & 0xFFFF_FFFF),
            Flags2 = (uint)((ulong)offered >> 32),
        };
        return request;
    }

    [Fact]
    public void Grants_only_wanted_flags_the_kernel_offered_and_never_writeback_cache()
    {
        const FuseInitFlags everything = (FuseInitFlags)0xFFFF_FFFF_FFFFUL;
        var error = FuseInitNegotiation.Negotiate(Request(7, 45, everything), 1 << 20, Page, 256, out var reply, out var size, out var done, out var info);

        Assert.Equal(0, error);
        Assert.True(done);
        Assert.Equal(64, size);
        var granted = (FuseInitFlags)(reply.Flags | ((ulong)reply.Flags2 << 32));
        Assert.Equal(FuseInitNegotiation.Wanted | FuseInitFlags.InitExt, granted);
        Assert.Equal(0UL, (ulong)(granted & FuseInitFlags.WritebackCache));
        Assert.Equal((uint)(1 << 20), reply.MaxWrite);
        Assert.Equal(256, reply.MaxPages);
        Assert.Equal(7u, reply.Major);
        Assert.Equal(45u, reply.Minor);
        Assert.Equal(128u * 1024, reply.MaxReadahead);
        Assert.Equal(45u, info.KernelMinor);
    }

    [Fact]
    public void A_kernel_that_offers_little_gets_only_that()
    {
        var offered = FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites | FuseInitFlags.WritebackCache;
        FuseInitNegotiation.Negotiate(Request(7, 31, offered), 1 << 20, Page, 256, out var reply, out _, out _, out _);

        Assert.Equal((uint)(FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites), reply.Flags);
        Assert.Equal(0u, reply.Flags2);
        Assert.Equal(0, reply.MaxPages); // MAX_PAGES not offered: the field means nothing
    }

    [Fact]
    public void Flags2_is_ignored_unless_the_kernel_sets_init_ext()
    {
        var request = Request(7, 45, FuseInitFlags.AsyncRead);
        request.Flags2 = uint.MaxValue;
        FuseInitNegotiation.Negotiate(request, 1 << 20, Page, 256, out var reply, out _, out _, out _);

        Assert.Equal(0u, reply.Flags2);
        Assert.Equal(0u, reply.Flags & (uint)FuseInitFlags.InitExt);
    }

    [Fact]
    public void Max_pages_respects_the_kernel_limit()
    {
        var maxWrite = FuseInitNegotiation.EffectiveMaxWrite(1 << 20, Page, 64);
        Assert.Equal(64 * Page, maxWrite);

        FuseInitNegotiation.Negotiate(Request(7, 45, FuseInitFlags.MaxPages), maxWrite, Page, 64, out var reply, out _, out _, out _);
        Assert.Equal(64, reply.MaxPages);
        Assert.Equal((uint)maxWrite, reply.MaxWrite);
    }

    [Fact]
    public void Newer_major_gets_our_version_and_waits_for_a_second_init()
    {
        var error = FuseInitNegotiation.Negotiate(Request(8, 0, FuseInitFlags.AsyncRead), 1 << 20, Page, 256, out var reply, out var size, out var done, out _);

        Assert.Equal(0, error);
        Assert.False(done);
        Assert.Equal(7u, reply.Major);
        Assert.Equal(64, size);
    }

    [Fact]
    public void Older_major_or_ancient_minor_is_a_protocol_error()
    {
        Assert.Equal(-Libc.EPROTO, FuseInitNegotiation.Negotiate(Request(6, 45, 0), 1 << 20, Page, 256, out _, out _, out _, out _));
        Assert.Equal(-Libc.EPROTO, FuseInitNegotiation.Negotiate(Request(7, 8, 0), 1 << 20, Page, 256, out _, out _, out _, out _));
    }

    [Fact]
    public void Kernels_before_7_23_get_the_24_byte_reply()
    {
        FuseInitNegotiation.Negotiate(Request(7, 22, FuseInitFlags.AsyncRead), 1 << 20, Page, 256, out _, out var size, out _, out var info);
        Assert.Equal(24, size);
        Assert.Equal(22u, info.KernelMinor);
    }
}
