namespace Slacker.Node.Agent;

/// <summary>
/// The stdio stream of `GET /v1/containers/{id}/attach`: a WebSocket over the node's unix socket whose binary
/// messages start with one kind byte. Output goes node -> client; input, resize and end-of-input client -> node.
/// The last message of a run is Exit with a JSON <see cref="WaitResponse"/>, then the node closes the socket.
/// </summary>
public static class AttachProtocol
{
    public const byte Stdin = 0;
    public const byte Stdout = 1;
    public const byte Stderr = 2;

    /// <summary>Node -> client: the run ended; payload is a JSON WaitResponse.</summary>
    public const byte Exit = 3;

    /// <summary>Client -> node: the terminal's size, u16 LE rows then u16 LE columns.</summary>
    public const byte Resize = 4;

    /// <summary>Client -> node: no more input (the container's stdin is closed).</summary>
    public const byte StdinEof = 5;
}
