using System.Net;
using System.Net.Sockets;

namespace Slacker.Bench.Processes;

/// <summary>Ports for the daemons the bench starts (and for the tests' own servers).</summary>
public static class FreePort
{
    /// <summary>A loopback port nobody listens on right now (the kernel's pick for port 0).</summary>
    public static int Pick()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
