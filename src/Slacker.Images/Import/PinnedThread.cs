using Slacker.Native;

namespace Slacker.Images.Import;

/// <summary>
/// Runs work on a dedicated thread bound to one CPU. ext4's block allocator keeps per-CPU preallocation
/// groups, so the same writes issued from different CPUs land on different blocks; pinning the one thread that
/// writes the image file system makes its layout, and hence its chunks, the same on every import.
/// </summary>
internal static class PinnedThread
{
    public static Task<T> RunAsync<T>(Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                PinToFirstCpu();
                result.SetResult(work());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "slacker-apply",
        };
        thread.Start();
        return result.Task;
    }

    private static unsafe void PinToFirstCpu()
    {
        const int Words = 16; // 1024 CPUs
        var mask = stackalloc ulong[Words];
        if (Libc.SchedGetaffinity(0, Words * sizeof(ulong), mask) != 0)
        {
            return;
        }

        for (var word = 0; word < Words; word++)
        {
            if (mask[word] == 0)
            {
                continue;
            }

            var bit = System.Numerics.BitOperations.TrailingZeroCount(mask[word]);
            var pinned = stackalloc ulong[Words];
            pinned[word] = 1UL << bit;
            Libc.SchedSetaffinity(0, Words * sizeof(ulong), pinned);
            return;
        }
    }
}
