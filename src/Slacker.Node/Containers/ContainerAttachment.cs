using System.Threading.Channels;

namespace Slacker.Node.Containers;

/// <summary>
/// One client connected to a container's stdio: its output stream, its input, and the container's end.
/// Disposing it disconnects the client; the container goes on.
/// </summary>
public sealed class ContainerAttachment(
    ContainerRecord record,
    AttachHub hub,
    ChannelReader<StdioFrame> output,
    Func<ContainerProcess?> process,
    Func<CancellationToken, Task<ContainerRecord>> wait) : IDisposable
{
    public ContainerRecord Record { get; } = record;

    /// <summary>Ends when the run ends (after all of its output).</summary>
    public ChannelReader<StdioFrame> Output { get; } = output;

    public Task<ContainerRecord> WaitAsync(CancellationToken cancellationToken) => wait(cancellationToken);

    public ValueTask WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        process() is { } running ? running.WriteStdinAsync(data, cancellationToken) : ValueTask.CompletedTask;

    public void CloseStdin() => process()?.CloseStdin();

    public void Resize(ushort rows, ushort columns) => process()?.Resize(rows, columns);

    public void Dispose() => hub.Unsubscribe(Output);
}
