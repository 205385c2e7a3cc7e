using Slacker.Native;

namespace Slacker.Node.Containers;

/// <summary>A container's terminal: receiving its pty master over a unix socket, reading, writing and resizing it.</summary>
internal static unsafe class Pty
{
    /// <summary>read(2) on a pty master (not seekable, so RandomAccess cannot be used). 0 or an error ends the stream.</summary>
    public static int Read(nint fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.Read((int)fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (Libc.LastErrno != Libc.EINTR)
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
                var n = Libc.Write((int)fd, p + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    if (Libc.LastErrno == Libc.EINTR)
                    {
                        continue;
                    }

                    throw new IOException($"Writing to the container's terminal failed: errno {Libc.LastErrno}.");
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
        var iov = new Libc.IoVec { Base = data, Length = 4096 };
        var message = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
        var received = Libc.RecvMsg((int)socket, &message, 0);
        if (received < 0)
        {
            throw new IOException($"Receiving the container's terminal failed: errno {Libc.LastErrno}.");
        }

        if (message.ControlLength < 20)
        {
            throw new IOException("The runtime connected to the console socket but sent no terminal.");
        }

        var level = *(int*)(control + 8);
        var type = *(int*)(control + 12);
        if (level != Libc.SOL_SOCKET || type != Libc.SCM_RIGHTS)
        {
            throw new IOException($"The runtime sent control message level {level} type {type}, not a terminal fd.");
        }

        return *(int*)(control + 16);
    }

    public static void SetWindowSize(nint fd, ushort rows, ushort columns)
    {
        var size = new Libc.WinSize { Rows = rows, Columns = columns };
        if (Libc.Ioctl((int)fd, Libc.TIOCSWINSZ, &size) < 0)
        {
            throw new IOException($"Resizing the container's terminal failed: errno {Libc.LastErrno}.");
        }
    }
}
