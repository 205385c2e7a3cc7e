using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Slacker.Bench.Corpus;

namespace Slacker.Bench.Parity;

/// <summary>
/// Asks a server, every 10 ms, the smallest real question of its protocol, until it answers properly:
/// redis PING -> +PONG; postgres a trust-auth startup message -> 'R' (not 'E', "the database system is
/// starting up"); HTTP any response; TCP an accepted connection.
/// </summary>
public static class FirstAnswerProbe
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static async Task WaitAsync(ProbeKind probe, int port, string httpPath, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                if (await AnswersAsync(probe, port, httpPath, http, cancellationToken))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or HttpRequestException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not there yet.
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private static async Task<bool> AnswersAsync(ProbeKind probe, int port, string httpPath, HttpClient http, CancellationToken cancellationToken)
    {
        if (probe == ProbeKind.Http)
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{httpPath}"), cancellationToken);
            return true;
        }

        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(5));
        await client.ConnectAsync("127.0.0.1", port, attempt.Token);
        if (probe == ProbeKind.Tcp)
        {
            return true;
        }

        var stream = client.GetStream();
        var buffer = new byte[64];
        if (probe == ProbeKind.Redis)
        {
            await stream.WriteAsync("PING\r\n"u8.ToArray(), attempt.Token);
            var read = await stream.ReadAsync(buffer, attempt.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }

        await stream.WriteAsync(PostgresStartup("postgres", "postgres"), attempt.Token);
        var first = await stream.ReadAsync(buffer.AsMemory(0, 1), attempt.Token);
        var answered = first == 1 && buffer[0] == (byte)'R';
        if (answered)
        {
            await stream.WriteAsync(new byte[] { (byte)'X', 0, 0, 0, 4 }, attempt.Token);
        }

        return answered;
    }

    /// <summary>Protocol 3.0 StartupMessage: int32 length, int32 196608, then key\0value\0 pairs and a final \0.</summary>
    internal static byte[] PostgresStartup(string user, string database)
    {
        var body = Encoding.ASCII.GetBytes($"user\0{user}\0database\0{database}\0\0");
        var message = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(message, message.Length);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), 196608);
        body.CopyTo(message, 8);
        return message;
    }
}
