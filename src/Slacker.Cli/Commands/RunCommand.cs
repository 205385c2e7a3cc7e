using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Slacker.Node.Agent;
using Slacker.Node.Containers;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker run [flags] IMAGE [CMD...]`: create a container on the node (a clone of the image), attach to its
/// stdio over the node socket, start it, and exit with its exit code, as docker does. -d prints the id instead.
/// </summary>
public static class RunCommand
{
    // docker's exit codes for a run that failed before the container's own process could run.
    private const int RunFailed = 125;

    private static readonly string[] ValueOptions =
        ["-e", "--env", "-v", "--volume", "-w", "--workdir", "-u", "--user", "--name", "--network", "--entrypoint", "--runtime", "--socket", "--server"];

    /// <summary>
    /// Options after the image belong to the container's command (`run img ls -l` must not read -l as ours), so
    /// a "--" is put in front of the image, the first argument of run that is neither a flag nor a flag's value.
    /// </summary>
    public static string[] SeparateContainerCommand(string[] args)
    {
        var run = Array.IndexOf(args, "run");
        if (run < 0 || args.Take(run).Any(a => !a.StartsWith('-')))
        {
            return args;
        }

        for (var i = run + 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                return args;
            }

            if (arg.StartsWith('-') && arg.Length > 1)
            {
                if (ValueOptions.Contains(arg))
                {
                    i++;
                }

                continue;
            }

            return [.. args[..i], "--", .. args[i..]];
        }

        return args;
    }

    public static Command Create()
    {
        var remove = new Option<bool>("--rm") { Description = "Remove the container when it exits." };
        var detach = new Option<bool>("--detach", "-d") { Description = "Run in the background and print the container id." };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Keep stdin open and pass it to the container." };
        var tty = new Option<bool>("--tty", "-t") { Description = "Give the container a terminal (pty)." };
        var env = new Option<string[]>("--env", "-e") { Description = "Set an environment variable (KEY=VALUE).", AllowMultipleArgumentsPerToken = false };
        var volume = new Option<string[]>("--volume", "-v") { Description = "Bind mount HOST:CONTAINER[:ro]." };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory inside the container." };
        var user = new Option<string?>("--user", "-u") { Description = "User (name|uid[:group|gid]) resolved in the image's /etc/passwd." };
        var name = new Option<string?>("--name") { Description = "Name the container." };
        var network = new Option<string>("--network") { Description = "none (own namespace, loopback only; the default) or host.", DefaultValueFactory = _ => NetworkModes.None };
        var entrypoint = new Option<string?>("--entrypoint") { Description = "Replace the image's entrypoint (and its default command)." };
        var runtime = new Option<string?>("--runtime") { Description = "OCI runtime for this container: crun or runc (default: the node's)." };
        var image = new Argument<string>("image") { Description = "Image NAME[:TAG]." };
        var command = new Argument<string[]>("command") { Description = "Command and arguments (default: the image's).", Arity = ArgumentArity.ZeroOrMore };

        var run = new Command("run", "Run a command in a new container (the image is cloned, not copied).")
        {
            remove, detach, interactive, tty, env, volume, workdir, user, name, network, entrypoint, runtime, NodeClient.SocketOption, image, command,
        };
        run.SetAction((parse, ct) => NodeClient.RunAsync(async () =>
        {
            var wantTty = parse.GetValue(tty);
            var wantStdin = parse.GetValue(interactive);
            if (wantTty && wantStdin && Console.IsInputRedirected)
            {
                throw new NodeApiException(0, "NOT_A_TTY", "The input device is not a terminal: drop -t, or run this from a terminal.");
            }

            var size = wantTty && !Console.IsOutputRedirected ? ((uint)Console.WindowHeight, (uint)Console.WindowWidth) : (0u, 0u);
            var entry = parse.GetValue(entrypoint);
            var config = new ContainerConfig(
                parse.GetValue(image)!,
                parse.GetValue(command) ?? [],
                Entrypoint: entry is null ? null : entry.Length == 0 ? [] : [entry],
                Env: parse.GetValue(env) ?? [],
                Binds: parse.GetValue(volume) ?? [],
                WorkingDir: parse.GetValue(workdir),
                User: parse.GetValue(user),
                Name: parse.GetValue(name),
                Network: parse.GetValue(network)!,
                Tty: wantTty,
                OpenStdin: wantStdin,
                AutoRemove: parse.GetValue(remove),
                ConsoleHeight: size.Item1,
                ConsoleWidth: size.Item2,
                Runtime: parse.GetValue(runtime));

            using var node = NodeClient.For(parse);
            var record = await node.PostAsync("v1/containers", config, AgentJsonContext.Default.ContainerConfig, AgentJsonContext.Default.ContainerRecord, ct);
            if (parse.GetValue(detach))
            {
                await node.PostAsync($"v1/containers/{record.Id}/start", ct);
                Console.WriteLine(record.Id);
                return 0;
            }

            return await AttachAndStartAsync(node, record, wantStdin, wantTty, ct);
        }, RunFailed));
        return run;
    }

    private static async Task<int> AttachAndStartAsync(NodeClient node, ContainerRecord record, bool stdin, bool tty, CancellationToken ct)
    {
        using var socket = await node.AttachAsync(record.Id, stdin, ct);
        try
        {
            await node.PostAsync($"v1/containers/{record.Id}/start", ct);
        }
        catch (NodeApiException)
        {
            // The container exists but did not start: leave nothing behind when the user asked for --rm.
            if (record.Config.AutoRemove)
            {
                await node.DeleteAsync($"v1/containers/{record.Id}?force=true", CancellationToken.None);
            }

            throw;
        }

        using var raw = tty && !Console.IsInputRedirected ? TerminalMode.Raw() : null;
        using var interrupts = tty ? null : new InterruptForwarder(node, record.Id);
        var sendLock = new SemaphoreSlim(1, 1);
        using var stopInput = new CancellationTokenSource();
        var input = stdin ? Task.Run(() => PumpStdinAsync(socket, sendLock, stopInput.Token), CancellationToken.None) : Task.CompletedTask;

        var stdout = Console.OpenStandardOutput();
        var stderr = Console.OpenStandardError();
        WaitResponse? exit = null;
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            message.SetLength(0);
            WebSocketReceiveResult result;
            try
            {
                do
                {
                    result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
            }
            catch (WebSocketException)
            {
                break;
            }

            if (result.MessageType == WebSocketMessageType.Close || message.Length == 0)
            {
                break;
            }

            var frame = message.GetBuffer().AsMemory(1, (int)message.Length - 1);
            switch (message.GetBuffer()[0])
            {
                case AttachProtocol.Stdout:
                    await stdout.WriteAsync(frame, CancellationToken.None);
                    await stdout.FlushAsync(CancellationToken.None);
                    break;
                case AttachProtocol.Stderr:
                    await stderr.WriteAsync(frame, CancellationToken.None);
                    await stderr.FlushAsync(CancellationToken.None);
                    break;
                case AttachProtocol.Exit:
                    exit = JsonSerializer.Deserialize(frame.Span, AgentJsonContext.Default.WaitResponse);
                    break;
            }
        }

        await stopInput.CancelAsync();
        if (socket.State == WebSocketState.CloseReceived)
        {
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }

        if (exit is null)
        {
            await Console.Error.WriteLineAsync($"slacker: lost the connection to the node before container {record.Name} exited.");
            return RunFailed;
        }

        if (exit.ExitCode is null)
        {
            await Console.Error.WriteLineAsync($"slacker: container {record.Name} ended without an exit code: {exit.Error}");
            return RunFailed;
        }

        return exit.ExitCode.Value;
    }

    private static async Task PumpStdinAsync(ClientWebSocket socket, SemaphoreSlim sendLock, CancellationToken ct)
    {
        var input = Console.OpenStandardInput();
        var buffer = new byte[32 * 1024];
        try
        {
            int read;
            while ((read = await input.ReadAsync(buffer.AsMemory(1), ct)) > 0)
            {
                buffer[0] = AttachProtocol.Stdin;
                await Send(socket, sendLock, buffer.AsMemory(0, read + 1), ct);
            }

            await Send(socket, sendLock, new[] { AttachProtocol.StdinEof }, ct);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // The container ended (or the node went away) while input was still coming.
        }
    }

    private static async Task Send(ClientWebSocket socket, SemaphoreSlim sendLock, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        await sendLock.WaitAsync(ct);
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, ct);
        }
        finally
        {
            sendLock.Release();
        }
    }

    /// <summary>
    /// Ctrl-C while attached without a terminal: the first one stops the container (SIGTERM, then SIGKILL after
    /// the grace period), the second kills it at once. With -t, Ctrl-C is a byte for the container's terminal.
    /// </summary>
    private sealed class InterruptForwarder : IDisposable
    {
        private readonly NodeClient _node;
        private readonly string _id;
        private int _count;

        public InterruptForwarder(NodeClient node, string id)
        {
            _node = node;
            _id = id;
            Console.CancelKeyPress += OnCancel;
        }

        private void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            var path = Interlocked.Increment(ref _count) == 1 ? $"v1/containers/{_id}/stop?t=10" : $"v1/containers/{_id}/kill?signal=KILL";
            _ = Task.Run(async () =>
            {
                try
                {
                    await _node.PostAsync(path, CancellationToken.None);
                }
                catch (NodeApiException)
                {
                    // Already gone.
                }
            });
        }

        public void Dispose() => Console.CancelKeyPress -= OnCancel;
    }

    /// <summary>Puts the user's terminal in raw mode for -t (keys go to the container as typed) and restores it.</summary>
    private sealed class TerminalMode : IDisposable
    {
        private readonly string _saved;

        private TerminalMode(string saved) => _saved = saved;

        public static TerminalMode? Raw()
        {
            var saved = Stty("-g").Trim();
            if (saved.Length == 0)
            {
                return null;
            }

            Stty("raw", "-echo");
            return new TerminalMode(saved);
        }

        private static string Stty(params string[] args)
        {
            var info = new ProcessStartInfo("stty") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "";
        }

        public void Dispose() => Stty(_saved);
    }
}
