using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using Slacker.Native;
using Slacker.Fuse.Protocol;

namespace Slacker.Fuse.Tests;

/// <summary>Request-level behaviour without the kernel: bytes in, bytes out.</summary>
public sealed class FuseRequestProcessorTests
{
    private readonly MemoryFile _file = new(10_000);
    private readonly FuseSessionStats _stats = new();
    private readonly FuseRequestProcessor _processor;
    private readonly byte[] _reply = new byte[16 + (1 << 16)];

    public FuseRequestProcessorTests()
    {
        var tree = new OneFileTree(_file, "volume", 0, 0);
        _processor = new FuseRequestProcessor(_file, tree, _stats, NullLogger.Instance, 1 << 16, 4096, 256);
    }

    private static byte[] Request<T>(FuseOpcode opcode, ulong node, T body, ReadOnlySpan<byte> tail = default)
        where T : unmanaged
    {
        var bytes = new byte[40 + Unsafe.SizeOf<T>() + tail.Length];
        var header = new FuseInHeader { Len = (uint)bytes.Length, Opcode = (uint)opcode, Unique = 42, NodeId = node };
        MemoryMarshal.Write(bytes, in header);
        MemoryMarshal.Write(bytes.AsSpan(40), in body);
        tail.CopyTo(bytes.AsSpan(40 + Unsafe.SizeOf<T>()));
        return bytes;
    }

    private static byte[] NameRequest(FuseOpcode opcode, ulong node, string name)
    {
        var bytes = new byte[40 + name.Length + 1];
        var header = new FuseInHeader { Len = (uint)bytes.Length, Opcode = (uint)opcode, Unique = 42, NodeId = node };
        MemoryMarshal.Write(bytes, in header);
        System.Text.Encoding.UTF8.GetBytes(name).CopyTo(bytes, 40);
        return bytes;
    }

    private (FuseOutHeader Header, byte[] Payload) Send(byte[] request)
    {
        var length = _processor.Process(request, _reply);
        Assert.True(length >= 16, "expected a reply");
        var header = MemoryMarshal.Read<FuseOutHeader>(_reply);
        Assert.Equal((uint)length, header.Len);
        Assert.Equal(42UL, header.Unique);
        return (header, _reply.AsSpan(16, length - 16).ToArray());
    }

    [Fact]
    public void Lookup_finds_only_the_one_file()
    {
        var (found, payload) = Send(NameRequest(FuseOpcode.Lookup, 1, "volume"));
        Assert.Equal(0, found.Error);
        var entry = MemoryMarshal.Read<FuseEntryOut>(payload);
        Assert.Equal(2UL, entry.NodeId);
        Assert.Equal(10_000UL, entry.Attr.Size);
        Assert.Equal(0x8000u, entry.Attr.Mode & 0xF000);

        Assert.Equal(-Libc.ENOENT, Send(NameRequest(FuseOpcode.Lookup, 1, "volum")).Header.Error);
        Assert.Equal(-Libc.ENOENT, Send(NameRequest(FuseOpcode.Lookup, 1, "volume2")).Header.Error);
        Assert.Equal(-Libc.ENOTDIR, Send(NameRequest(FuseOpcode.Lookup, 2, "volume")).Header.Error);
    }

    [Fact]
    public void Setattr_refuses_a_size_change_but_accepts_the_same_size_and_a_mode()
    {
        var truncate = new FuseSetattrIn { Valid = (uint)FuseSetattrValid.Size, Size = 0 };
        Assert.Equal(-Libc.EPERM, Send(Request(FuseOpcode.Setattr, 2, truncate)).Header.Error);

        var same = new FuseSetattrIn { Valid = (uint)(FuseSetattrValid.Size | FuseSetattrValid.Mode), Size = 10_000, Mode = 0x180 };
        var (header, payload) = Send(Request(FuseOpcode.Setattr, 2, same));
        Assert.Equal(0, header.Error);
        var attr = MemoryMarshal.Read<FuseAttrOut>(payload).Attr;
        Assert.Equal(0x8000u | 0x180u, attr.Mode);
        Assert.Equal(10_000UL, attr.Size);
    }

    [Fact]
    public void Write_at_the_end_is_ENOSPC_and_across_the_end_is_short()
    {
        var data = new byte[100];
        Array.Fill(data, (byte)7);
        var atEnd = new FuseWriteIn { Offset = 10_000, Size = 100 };
        Assert.Equal(-Libc.ENOSPC, Send(Request(FuseOpcode.Write, 2, atEnd, data)).Header.Error);

        var across = new FuseWriteIn { Offset = 9_950, Size = 100 };
        var (header, payload) = Send(Request(FuseOpcode.Write, 2, across, data));
        Assert.Equal(0, header.Error);
        Assert.Equal(50u, MemoryMarshal.Read<FuseWriteOut>(payload).Size);
        Assert.All(_file.Data[9_950..], value => Assert.Equal(7, value));
    }

    [Fact]
    public void Read_is_never_asked_past_the_end_and_handler_exceptions_become_EIO()
    {
        var read = new FuseReadIn { Offset = 9_990, Size = 4096 };
        var (header, payload) = Send(Request(FuseOpcode.Read, 2, read));
        Assert.Equal(0, header.Error);
        Assert.Equal(10, payload.Length);

        var throwing = new MemoryFile(4096) { BeforeRead = _ => throw new InvalidOperationException("disk on fire") };
        var processor = new FuseRequestProcessor(throwing, new OneFileTree(throwing, "v", 0, 0), _stats, NullLogger.Instance, 1 << 16, 4096, 256);
        var length = processor.Process(Request(FuseOpcode.Read, 2, new FuseReadIn { Size = 512 }), _reply);
        Assert.Equal(16, length);
        Assert.Equal(-Libc.EIO, MemoryMarshal.Read<FuseOutHeader>(_reply).Error);
    }

    [Fact]
    public void A_handler_errno_outside_the_kernel_range_becomes_EIO()
    {
        var odd = new MemoryFile(4096) { BeforeRead = _ => -100_000 };
        var processor = new FuseRequestProcessor(odd, new OneFileTree(odd, "v", 0, 0), _stats, NullLogger.Instance, 1 << 16, 4096, 256);
        processor.Process(Request(FuseOpcode.Read, 2, new FuseReadIn { Size = 512 }), _reply);
        Assert.Equal(-Libc.EIO, MemoryMarshal.Read<FuseOutHeader>(_reply).Error);
    }

    [Fact]
    public void Readdir_lists_dot_dotdot_and_the_file_and_resumes_at_a_cookie()
    {
        var (header, payload) = Send(Request(FuseOpcode.Readdir, 1, new FuseReadIn { Offset = 0, Size = 4096 }));
        Assert.Equal(0, header.Error);
        var names = new List<string>();
        ulong lastCookie = 0;
        for (var at = 0; at < payload.Length;)
        {
            var dirent = MemoryMarshal.Read<FuseDirent>(payload.AsSpan(at));
            names.Add(System.Text.Encoding.UTF8.GetString(payload, at + 24, (int)dirent.NameLen));
            lastCookie = dirent.Off;
            at += (24 + (int)dirent.NameLen + 7) & ~7;
        }

        Assert.Equal([".", "..", "volume"], names);
        Assert.Empty(Send(Request(FuseOpcode.Readdir, 1, new FuseReadIn { Offset = lastCookie, Size = 4096 })).Payload);
        Assert.Equal(32, Send(Request(FuseOpcode.Readdir, 1, new FuseReadIn { Offset = 2, Size = 4096 })).Payload.Length);
    }

    [Fact]
    public void Open_asks_for_direct_io_and_read_only_files_refuse_writers()
    {
        var (header, payload) = Send(Request(FuseOpcode.Open, 2, new FuseOpenIn { Flags = Libc.O_RDWR }));
        Assert.Equal(0, header.Error);
        Assert.NotEqual(0u, MemoryMarshal.Read<FuseOpenOut>(payload).OpenFlags & (uint)FuseOpenFlags.DirectIo);

        var readOnly = new MemoryFile(4096, readOnly: true);
        var processor = new FuseRequestProcessor(readOnly, new OneFileTree(readOnly, "v", 0, 0), _stats, NullLogger.Instance, 1 << 16, 4096, 256);
        processor.Process(Request(FuseOpcode.Open, 2, new FuseOpenIn { Flags = Libc.O_WRONLY }), _reply);
        Assert.Equal(-Libc.EROFS, MemoryMarshal.Read<FuseOutHeader>(_reply).Error);
    }

    [Fact]
    public void Forget_and_interrupt_get_no_reply_and_unknown_opcodes_get_ENOSYS()
    {
        Assert.Equal(FuseRequestProcessor.NoReply, _processor.Process(Request(FuseOpcode.Forget, 2, new FuseForgetIn { Nlookup = 1 }), _reply));
        Assert.Equal(FuseRequestProcessor.NoReply, _processor.Process(Request(FuseOpcode.Interrupt, 0, new FuseInterruptIn { Unique = 40 }), _reply));
        Assert.Equal(-Libc.ENOSYS, Send(Request(FuseOpcode.Fallocate, 2, new FuseFallocateIn())).Header.Error);
        Assert.Equal(-Libc.ENOSYS, Send(Request(FuseOpcode.Lseek, 2, new FuseLseekIn())).Header.Error);
        Assert.Equal(-Libc.ENOSYS, Send(Request((FuseOpcode)4242, 2, new FuseForgetIn())).Header.Error);
    }

    [Fact]
    public void A_request_whose_length_field_lies_gets_EIO()
    {
        var request = Request(FuseOpcode.Getattr, 1, new FuseGetattrIn());
        var header = MemoryMarshal.Read<FuseInHeader>(request);
        header.Len += 8;
        MemoryMarshal.Write(request, in header);
        Assert.Equal(-Libc.EIO, Send(request).Header.Error);
    }
}
