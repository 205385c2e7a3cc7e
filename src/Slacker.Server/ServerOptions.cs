using System.Net;
using Slacker.Server.Storage;

namespace Slacker.Server;

/// <summary>How `slacker server` runs. Defaults: data in /var/lib/slacker/server, loopback only.</summary>
public sealed record ServerOptions
{
    public const string DefaultDataDirectory = "/var/lib/slacker/server";
    public const string DefaultListen = "127.0.0.1:7070";

    public StoreLocations Stores { get; init; } = new(DefaultDataDirectory);

    /// <summary>The embedded default's data directory; a shortcut for <c>Stores = new(dir)</c>.</summary>
    public string DataDirectory
    {
        get => Stores.DataDirectory;
        init => Stores = Stores with { DataDirectory = value };
    }

    /// <summary>host:port; port 0 picks a free port (tests). Use 0.0.0.0:7070 to serve other machines.</summary>
    public string Listen { get; init; } = DefaultListen;

    /// <summary>gc never sweeps an object touched this recently, so uploads for a snapshot not yet taken survive.</summary>
    public TimeSpan GcGrace { get; init; } = TimeSpan.FromMinutes(10);

    public static IPEndPoint ParseListen(string listen)
    {
        var text = listen.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? listen["http://".Length..].TrimEnd('/') : listen;
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            text = "127.0.0.1" + text["localhost".Length..];
        }

        if (IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal) && endpoint.Port is >= 0 and <= 65535)
        {
            return endpoint;
        }

        throw new ArgumentException($"--listen '{listen}' is not an address: write host:port with an IP, e.g. 127.0.0.1:7070, 0.0.0.0:7070 or [::1]:7070.");
    }
}
