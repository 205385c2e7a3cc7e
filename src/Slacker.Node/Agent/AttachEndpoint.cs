using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

/// <summary>
/// GET /v1/containers/{id}/attach[?stdin=true] upgraded to a WebSocket (see <see cref="AttachProtocol"/>). The
/// client attaches before it starts the container, so it sees all output; the socket ends with the Exit message.
/// </summary>
public static class AttachEndpoint
{
    public static async Task RunAsync(HttpContext http, ContainerManager manager, string id)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            throw new ContainerException(ContainerErrors.BadRequest, "attach is a WebSocket endpoint: send an Upgrade request.");
        }

        var withStdin = http.Request.Query.TryGetValue("stdin", out var s) && (s == "1" || s == "true");
        using var attachment = manager.Attach(id);
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var input = ReceiveAsync(socket, attachment, withStdin, stop.Token);

        var header = new byte[1];
        try
        {
            await foreach (var frame in attachment.Output.ReadAllAsync(stop.Token))
            {
                header[0] = frame.Stream == StdioStream.Stderr ? AttachProtocol.Stderr : AttachProtocol.Stdout;
                await SendAsync(socket, header, frame.Data, stop.Token);
            }

            var record = await attachment.WaitAsync(stop.Token);
            header[0] = AttachProtocol.Exit;
            await SendAsync(socket, header, JsonSerializer.SerializeToUtf8Bytes(new WaitResponse(record.ExitCode, record.Error), AgentJsonContext.Default.WaitResponse), stop.Token);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "exited", stop.Token);

            // Let the client read everything and answer the close: cancelling a pending receive aborts the
            // connection, and an abort can drop the Exit message still in Kestrel's output buffer.
            await Task.WhenAny(input, Task.Delay(TimeSpan.FromSeconds(5), stop.Token));
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client went away; the container goes on without it.
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await input;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
    }

    private static async Task SendAsync(WebSocket socket, byte[] header, byte[] payload, CancellationToken cancellationToken)
    {
        var message = new byte[1 + payload.Length];
        message[0] = header[0];
        payload.CopyTo(message, 1);
        await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
    }

    private static async Task ReceiveAsync(WebSocket socket, ContainerAttachment attachment, bool withStdin, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (!cancellationToken.IsCancellationRequested)
        {
            message.SetLength(0);
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (withStdin)
                    {
                        attachment.CloseStdin();
                    }

                    return;
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            if (message.Length == 0)
            {
                continue;
            }

            var bytes = message.GetBuffer().AsMemory(0, (int)message.Length);
            switch (bytes.Span[0])
            {
                case AttachProtocol.Stdin when withStdin:
                    await attachment.WriteStdinAsync(bytes[1..], cancellationToken);
                    break;
                case AttachProtocol.StdinEof when withStdin:
                    attachment.CloseStdin();
                    break;
                case AttachProtocol.Resize when bytes.Length >= 5:
                    attachment.Resize(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Span[1..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes.Span[3..]));
                    break;
            }
        }
    }
}
