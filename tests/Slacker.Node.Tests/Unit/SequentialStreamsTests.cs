using Slacker.Node.Volumes;

namespace Slacker.Node.Tests.Unit;

public sealed class SequentialStreamsTests
{
    private const int Shift = 16;
    private const long Chunk = 1L << Shift;

    [Fact]
    public void A_read_that_starts_a_stream_gets_no_read_ahead()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 128);
        Assert.True(streams.OnRead(0, 4096).IsEmpty);
        Assert.True(streams.OnRead(100 * Chunk, (100 * Chunk) + (1 << 20)).IsEmpty);
    }

    [Fact]
    public void A_continuing_stream_grows_its_window_with_what_it_read_up_to_the_maximum()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 16);
        var windows = new List<long>();
        long requestedEnd = 0;
        for (long offset = 0; offset < 200 * Chunk; offset += Chunk)
        {
            var ahead = streams.OnRead(offset, offset + Chunk);
            if (!ahead.IsEmpty)
            {
                // Contiguous, never behind the reader, never what was already asked for.
                Assert.True(ahead.First >= (offset + Chunk) / Chunk);
                Assert.True(ahead.First >= requestedEnd);
                requestedEnd = ahead.End;
                windows.Add(ahead.End - ((offset + Chunk) / Chunk));
            }
        }

        Assert.Equal(16, windows.Max());
        Assert.Equal(windows.Order(), windows); // it only grows
        Assert.True(windows[0] <= 2, $"first window {windows[0]} chunks after two chunks read");
        Assert.True(requestedEnd >= 200, "the stream fell behind its reader");
    }

    [Fact]
    public void Read_ahead_never_exceeds_half_of_what_the_stream_read()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 200; trial++)
        {
            var streams = new SequentialStreams(Shift, maxWindowChunks: 64);
            long offset = random.Next(0, 1 << 30);
            var start = offset;
            long furthestRequested = 0;
            for (var reads = random.Next(1, 40); reads > 0; reads--)
            {
                var length = random.Next(1, 1 << 20);
                var ahead = streams.OnRead(offset, offset + length);
                offset += length;
                if (!ahead.IsEmpty)
                {
                    furthestRequested = Math.Max(furthestRequested, ahead.End);
                }

                // Measured from the end of the reader's last chunk: that chunk is fetched whole anyway.
                var beyond = Math.Max(0, furthestRequested - ((offset + Chunk - 1) / Chunk)) * Chunk;
                Assert.True(beyond <= (offset - start) / 2, $"{beyond} bytes requested beyond the reader after {offset - start} read");
            }
        }
    }

    [Fact]
    public void A_re_read_does_not_grow_the_window()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 128);
        streams.OnRead(0, 8 * Chunk);
        var first = streams.OnRead(8 * Chunk, 16 * Chunk);
        Assert.False(first.IsEmpty);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(streams.OnRead(i % 16 * Chunk, ((i % 16) + 1) * Chunk).IsEmpty);
        }
    }

    [Fact]
    public void Pieces_of_one_stream_that_arrive_out_of_order_are_one_stream()
    {
        // The loop device cuts ext4's read-ahead into pieces that several FUSE threads serve in any order.
        var streams = new SequentialStreams(Shift, maxWindowChunks: 128);
        Assert.True(streams.OnRead(16 * Chunk, 32 * Chunk).IsEmpty);
        Assert.True(streams.OnRead(0, 16 * Chunk).IsEmpty); // late, before the start: joins, asks nothing
        var ahead = streams.OnRead(32 * Chunk, 40 * Chunk);
        Assert.Equal(new ChunkRange(40, 40 + 20), ahead); // 40 chunks read: a 20-chunk window
    }

    [Fact]
    public void Scattered_reads_never_read_ahead()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 128);
        var random = new Random(3);
        for (var i = 0; i < 1000; i++)
        {
            var offset = random.NextInt64(0, 1L << 34) & ~4095L;
            Assert.True(streams.OnRead(offset, offset + (4096 * random.Next(1, 32))).IsEmpty);
        }
    }

    [Fact]
    public void Interleaved_sequential_readers_each_keep_their_window()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 32);
        var bases = Enumerable.Range(0, 8).Select(i => (long)i * 10_000 * Chunk).ToArray();
        var requested = new long[bases.Length];
        var lastWindow = new long[bases.Length];
        for (long step = 0; step < 300; step++)
        {
            for (var r = 0; r < bases.Length; r++)
            {
                var offset = bases[r] + (step * Chunk);
                var ahead = streams.OnRead(offset, offset + Chunk);
                if (!ahead.IsEmpty)
                {
                    Assert.InRange(ahead.First, bases[r] / Chunk, (bases[r] / Chunk) + 400); // only its own region
                    requested[r] = ahead.End;
                    lastWindow[r] = ahead.End - ((offset + Chunk) / Chunk);
                }
            }
        }

        for (var r = 0; r < bases.Length; r++)
        {
            Assert.Equal(32, lastWindow[r]);
            Assert.True(requested[r] >= (bases[r] / Chunk) + 300, $"reader {r} fell behind");
        }
    }

    [Fact]
    public void More_streams_than_slots_replace_the_least_recently_used()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 32, streams: 2);
        streams.OnRead(0, 4 * Chunk);                          // A
        streams.OnRead(1000 * Chunk, 1004 * Chunk);            // B
        Assert.False(streams.OnRead(4 * Chunk, 8 * Chunk).IsEmpty);  // A continues (and is now the most recent)
        streams.OnRead(5000 * Chunk, 5004 * Chunk);                  // C replaces B, the least recently used
        Assert.False(streams.OnRead(8 * Chunk, 16 * Chunk).IsEmpty); // A kept its window
        Assert.True(streams.OnRead(1004 * Chunk, 1008 * Chunk).IsEmpty); // B was forgotten: a new stream again
    }

    [Fact]
    public void A_zero_window_turns_read_ahead_off()
    {
        var streams = new SequentialStreams(Shift, maxWindowChunks: 0);
        for (long offset = 0; offset < 100 * Chunk; offset += Chunk)
        {
            Assert.True(streams.OnRead(offset, offset + Chunk).IsEmpty);
        }
    }
}
