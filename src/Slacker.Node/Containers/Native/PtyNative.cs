using System.Runtime.InteropServices;

namespace Slacker.Node.Containers.Native;

/// <summary>The libc calls for terminals: receiving a pty master over a unix socket, and setting its size.</summary>
internal static unsafe partial class PtyNative
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const nuint Tiocswinsz = 0x5414;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(nint socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(nint fd, nuint request, WinSize* size);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(nint fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(nint fd, byte* buffer, nuint count);

    private const int Eintr = 4;

    /// <summary>read(2) on a pty master (not seekable, so RandomAccess cannot be used). 0 or an error ends the stream.</summary>
    public static int Read(nint fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = ReadNative(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (Marshal.GetLastPInvokeError() != Eintr)
                {
                    // EIO: every slave end is closed.
                    return 0;
                }
            }
        }
    }

    public static void Write(nint fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = WriteNative(fd, p + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Eintr)
                    {
                        continue;
                    }

                    throw new IOException($"Writing to the container's terminal failed: errno {Marshal.GetLastPInvokeError()}.");
                }

                done += (int)n;
            }
        }
    }

    /// <summary>Receives one file descriptor sent with SCM_RIGHTS (the runtime's --console-socket protocol).</summary>
    public static int ReceiveFileDescriptor(nint socket)
    {
        var data = stackalloc byte[4096];
        // cmsghdr (16 bytes on 64-bit) followed by one int, padded to 8.
        var control = stackalloc byte[64];
        var iov = new IoVec { Base = data, Length = 4096 };
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
        var received = RecvMsg(socket, &message, 0);
        if (received < 0)
        {
            throw new IOException($"Receiving the container's terminal failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        if (message.ControlLength < 20)
        {
            throw new IOException("The runtime connected to the console socket but sent no terminal.");
        }

        var level = *(int*)(control + 8);
        var type = *(int*)(control + 12);
        if (level != SolSocket || type != ScmRights)
        {
            throw new IOException($"The runtime sent control message level {level} type {type}, not a terminal fd.");
        }

        return *(int*)(control + 16);
    }

    public static void SetWindowSize(nint fd, ushort rows, ushort columns)
    {
        var size = new WinSize { Rows = rows, Columns = columns };
        if (Ioctl(fd, Tiocswinsz, &size) < 0)
        {
            throw new IOException($"Resizing the container's terminal failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }
}
