namespace Slacker.Fuse.Tests;

public sealed class FuseConcurrencyTests
{
    [Fact]
    public void Eight_threads_of_random_reads_and_writes_see_their_own_data()
    {
        const int threads = 8;
        const int slice = 1 << 20;
        using var mounted = new MountedFile(threads * slice);
        Random.Shared.NextBytes(mounted.File.Data);
        var expected = mounted.File.Data.ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        // Each thread owns one slice, so the shadow copy is exact; mixing O_DIRECT and buffered descriptors,
        // aligned and unaligned offsets, and sizes up to 256 KiB spreads the requests over all reader threads.
        var workers = Enumerable.Range(0, threads).Select(index => new Thread(() =>
        {
            try
            {
                var random = new Random(index);
                var direct = index % 2 == 0;
                using var file = new NativeFile(mounted.Path, direct, capacity: 256 << 10);
                var start = (long)index * slice;
                for (var op = 0; op < 300; op++)
                {
                    var length = direct ? 4096 * random.Next(1, 64) : random.Next(1, 256 << 10);
                    var offset = direct ? 4096L * random.Next(0, (slice - length) / 4096) : random.Next(0, slice - length);
                    if (random.Next(2) == 0)
                    {
                        random.NextBytes(file.Buffer[..length]);
                        file.Buffer[..length].CopyTo(expected.AsSpan((int)(start + offset), length));
                        Check(file.WriteAt(start + offset, length) == length, $"write {index}/{op}");
                    }
                    else
                    {
                        Check(file.ReadAt(start + offset, length) == length, $"read {index}/{op}");
                        Check(file.Buffer[..length].SequenceEqual(expected.AsSpan((int)(start + offset), length)), $"data {index}/{op}");
                    }
                }
            }
            catch (Exception exception)
            {
                failures.Enqueue(exception.ToString());
            }
        })).ToList();
        workers.ForEach(worker => worker.Start());
        workers.ForEach(worker => worker.Join());

        Assert.Empty(failures);
        Assert.Equal(expected, mounted.File.Data);
        Assert.Equal(expected, File.ReadAllBytes(mounted.Path));
        Assert.Equal(0, mounted.Session.Stats.ErrorReplies);
        // The default 4 readers on cloned fds shared the load (the kernel wakes one reader per request).
        Assert.Equal(4, mounted.Session.RequestsPerReader.Length);
        Assert.True(mounted.Session.RequestsPerReader.Count(requests => requests > 0) >= 2, string.Join(",", mounted.Session.RequestsPerReader));

        void Check(bool condition, string what)
        {
            if (!condition)
            {
                failures.Enqueue(what);
            }
        }
    }
}
