using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Slacker.Node.Containers;

/// <summary>
/// A running container: the runtime (`crun run`) as the node's child process, whose stdout and stderr are pumped
/// into the container log and to attached clients, and whose stdin (or pty) takes what clients type.
/// </summary>
public sealed class ContainerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ContainerLogWriter _log;
    private readonly SafeFileHandle? _ptyMaster;
    private readonly Lock _stdinGate = new();
    private readonly Task _pumps;
    private bool _stdinClosed;

    public AttachHub Hub { get; }

    /// <summary>Completes with the container's exit code once its output was fully logged.</summary>
    public Task<int> Exited { get; }

    public int? Pid { get; private set; }

    private ContainerProcess(Process process, ContainerLogWriter log, SafeFileHandle? ptyMaster, AttachHub hub, bool openStdin)
    {
        _process = process;
        _log = log;
        _ptyMaster = ptyMaster;
        Hub = hub;
        if (!openStdin || ptyMaster is not null)
        {
            // Without -i the container reads end-of-file at once, like docker's /dev/null.
            _process.StandardInput.Close();
            _stdinClosed = ptyMaster is null;
        }

        var pumps = new List<Task>
        {
            PumpAsync(_process.StandardOutput.BaseStream, ptyMaster is null ? StdioStream.Stdout : StdioStream.Stderr),
            PumpAsync(_process.StandardError.BaseStream, StdioStream.Stderr),
        };
        if (ptyMaster is not null)
        {
            pumps.Add(Task.Factory.StartNew(PumpTerminal, TaskCreationOptions.LongRunning).Unwrap());
        }

        _pumps = Task.WhenAll(pumps);
        Exited = WaitAsync();
    }

    public static async Task<ContainerProcess> StartAsync(OciRuntime runtime, ContainerStore store, ContainerRecord record, AttachHub hub, CancellationToken cancellationToken)
    {
        File.Delete(store.ExitFileOf(record.Id));
        File.Delete(store.PidFileOf(record.Id));
        using var console = record.Config.Tty ? new ConsoleSocket(ContainerStore.ConsoleSocketOf(record.Id)) : null;
        var (fileName, arguments) = runtime.RunCommand(record.Id, store.BundleOf(record.Id), store.PidFileOf(record.Id),
            store.ExitFileOf(record.Id), console?.Path);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var log = new ContainerLogWriter(store.LogOf(record.Id));
        Process process;
        try
        {
            process = Process.Start(info)
                ?? throw new ContainerException(ContainerErrors.RuntimeFailed, $"Could not start '{fileName}'.");
        }
        catch
        {
            log.Dispose();
            throw;
        }

        SafeFileHandle? master = null;
        if (console is not null)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var receive = console.ReceiveMasterAsync(timeout.Token);
            var exited = process.WaitForExitAsync(timeout.Token);
            if (await Task.WhenAny(receive, exited) != receive)
            {
                await timeout.CancelAsync();
                var error = await process.StandardError.ReadToEndAsync(cancellationToken);
                log.Dispose();
                process.Dispose();
                throw new ContainerException(ContainerErrors.RuntimeFailed,
                    $"The runtime exited before it created the container's terminal: {error.Trim()}");
            }

            master = await receive;
            await timeout.CancelAsync();
            if (record.Config.ConsoleHeight > 0)
            {
                Pty.SetWindowSize(master.DangerousGetHandle(), (ushort)record.Config.ConsoleHeight, (ushort)record.Config.ConsoleWidth);
            }
        }

        var container = new ContainerProcess(process, log, master, hub, record.Config.OpenStdin);
        container.Pid = await WaitForPidAsync(store.PidFileOf(record.Id), container.Exited);
        return container;
    }

    /// <summary>The runtime writes the pid file once the container exists; an early exit means it never will.</summary>
    private static async Task<int?> WaitForPidAsync(string pidFile, Task exited)
    {
        while (!exited.IsCompleted)
        {
            if (File.Exists(pidFile) && int.TryParse(await File.ReadAllTextAsync(pidFile), out var pid))
            {
                return pid;
            }

            await Task.WhenAny(exited, Task.Delay(5));
        }

        return null;
    }

    private async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync();
        await _pumps;
        _log.Complete();
        Hub.Complete();
        return _process.ExitCode;
    }

    private async Task PumpAsync(Stream source, StdioStream stream)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            _log.Write(stream, buffer.AsSpan(0, read));
            await Hub.PublishAsync(stream, buffer.AsMemory(0, read));
        }
    }

    private async Task PumpTerminal()
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = Pty.Read(_ptyMaster!.DangerousGetHandle(), buffer);
            if (read <= 0)
            {
                break;
            }

            _log.Write(StdioStream.Stdout, buffer.AsSpan(0, read));
            await Hub.PublishAsync(StdioStream.Stdout, buffer.AsMemory(0, read));
        }
    }

    public async ValueTask WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_ptyMaster is not null)
        {
            try
            {
                Pty.Write(_ptyMaster.DangerousGetHandle(), data.Span);
            }
            catch (IOException)
            {
                // The container is gone; its terminal has no reader.
            }

            return;
        }

        if (_stdinClosed)
        {
            return;
        }

        try
        {
            await _process.StandardInput.BaseStream.WriteAsync(data, cancellationToken);
            await _process.StandardInput.BaseStream.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            // The container closed its stdin or ended; the rest of the input has no reader.
        }
    }

    public void CloseStdin()
    {
        lock (_stdinGate)
        {
            if (_ptyMaster is not null || _stdinClosed)
            {
                return;
            }

            _stdinClosed = true;
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
            }
        }
    }

    public void Resize(ushort rows, ushort columns)
    {
        if (_ptyMaster is not null && rows > 0 && columns > 0)
        {
            Pty.SetWindowSize(_ptyMaster.DangerousGetHandle(), rows, columns);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Exited;
        _log.Dispose();
        _ptyMaster?.Dispose();
        _process.Dispose();
    }
}
