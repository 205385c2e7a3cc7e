using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Slacker.Node.Containers;

/// <summary>
/// The runtime side of `-t`: the runtime allocates the pty inside the container's own devpts and sends its
/// master end over this unix socket (OCI --console-socket), as containerd and podman do. The slave is then a
/// real terminal in the container and its controlling tty, so Ctrl-C typed by the user becomes SIGINT there.
/// </summary>
public sealed class ConsoleSocket : IDisposable
{
    private readonly Socket _listener;

    public string Path { get; }

    public ConsoleSocket(string path)
    {
        Path = path;
        File.Delete(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(1);
    }

    /// <summary>Waits for the runtime to connect and returns the pty master it sends.</summary>
    public async Task<SafeFileHandle> ReceiveMasterAsync(CancellationToken cancellationToken)
    {
        using var connection = await _listener.AcceptAsync(cancellationToken);

        // recvmsg below is a plain blocking call; the runtime sends the fd right after connecting.
        connection.Blocking = true;
        var fd = Pty.ReceiveFileDescriptor(connection.Handle);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(Path);
    }
}
