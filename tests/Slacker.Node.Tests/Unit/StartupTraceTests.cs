using Slacker.Node.Volumes;

namespace Slacker.Node.Tests.Unit;

public sealed class StartupTraceTests
{
    [Fact]
    public void Chunks_come_out_once_each_in_first_read_order()
    {
        var trace = new StartupTrace(chunkCount: 1000, TimeSpan.FromMinutes(1));
        foreach (var index in new long[] { 7, 3, 7, 999, 0, 3, 64, 63 })
        {
            trace.Touch(index);
        }

        Assert.Equal([7, 3, 999, 0, 64, 63], trace.Close());
        trace.Touch(5);
        Assert.True(trace.IsClosed);
        Assert.Equal([7, 3, 999, 0, 64, 63], trace.Close());
    }

    [Fact]
    public void Recording_stops_when_the_window_is_over()
    {
        var trace = new StartupTrace(chunkCount: 100, TimeSpan.Zero);
        Thread.Sleep(20);
        trace.Touch(1);
        Assert.True(trace.IsClosed);
        Assert.Empty(trace.Close());
    }

    [Fact]
    public void A_trace_holds_at_most_its_capacity()
    {
        var trace = new StartupTrace(chunkCount: StartupTrace.MaxChunks + 10, TimeSpan.FromMinutes(1));
        for (var i = 0; i < StartupTrace.MaxChunks + 10; i++)
        {
            trace.Touch(i);
        }

        var chunks = trace.Close();
        Assert.Equal(StartupTrace.MaxChunks, chunks.Count);
        Assert.Equal(Enumerable.Range(0, StartupTrace.MaxChunks).Select(i => (long)i), chunks);
    }

    [Fact]
    public void Concurrent_readers_record_every_chunk_exactly_once()
    {
        var trace = new StartupTrace(chunkCount: 20_000, TimeSpan.FromMinutes(1));
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                trace.Touch((i * 7919L + worker) % 20_000);
            }
        });

        var chunks = trace.Close();
        Assert.Equal(20_000, chunks.Count);
        Assert.Equal(20_000, chunks.Distinct().Count());
    }

    [Fact]
    public void Touch_allocates_nothing()
    {
        var trace = new StartupTrace(chunkCount: 4096, TimeSpan.FromMinutes(1));
        trace.Touch(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 4096; i++)
        {
            trace.Touch(i);
            trace.Touch(i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
