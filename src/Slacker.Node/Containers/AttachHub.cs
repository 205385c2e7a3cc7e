using System.Threading.Channels;

namespace Slacker.Node.Containers;

/// <summary>One piece of container output for the attached clients.</summary>
public readonly record struct StdioFrame(StdioStream Stream, byte[] Data);

/// <summary>
/// Fans a container's output out to the clients attached to it. Each client has a small bounded queue: a slow
/// client slows the container's output (as a terminal would) rather than making the node buffer without limit.
/// </summary>
public sealed class AttachHub
{
    private readonly Lock _gate = new();
    private readonly List<Channel<StdioFrame>> _subscribers = [];
    private bool _completed;

    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    public ChannelReader<StdioFrame> Subscribe()
    {
        var channel = Channel.CreateBounded<StdioFrame>(new BoundedChannelOptions(64)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        lock (_gate)
        {
            if (_completed)
            {
                channel.Writer.Complete();
            }
            else
            {
                _subscribers.Add(channel);
            }
        }

        return channel.Reader;
    }

    /// <summary>Stops sending to a client that went away.</summary>
    public void Unsubscribe(ChannelReader<StdioFrame> reader)
    {
        lock (_gate)
        {
            var index = _subscribers.FindIndex(c => c.Reader == reader);
            if (index >= 0)
            {
                _subscribers[index].Writer.TryComplete();
                _subscribers.RemoveAt(index);
            }
        }
    }

    public async ValueTask PublishAsync(StdioStream stream, ReadOnlyMemory<byte> data)
    {
        Channel<StdioFrame>[] targets;
        lock (_gate)
        {
            if (_subscribers.Count == 0)
            {
                return;
            }

            targets = [.. _subscribers];
        }

        var frame = new StdioFrame(stream, data.ToArray());
        foreach (var target in targets)
        {
            try
            {
                await target.Writer.WriteAsync(frame);
            }
            catch (ChannelClosedException)
            {
                // Unsubscribed while we were writing.
            }
        }
    }

    /// <summary>The container ended: every client's stream ends after what was already queued.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }

            _subscribers.Clear();
        }
    }
}
