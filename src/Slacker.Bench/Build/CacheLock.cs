namespace Slacker.Bench.Build;

/// <summary>
/// An exclusive lock on one cache item, shared by every process that builds into the same cache dir
/// (tests of several projects may build the same base at once). .NET takes an flock for FileShare.None.
/// </summary>
internal sealed class CacheLock : IDisposable
{
    private readonly FileStream _stream;

    private CacheLock(FileStream stream) => _stream = stream;

    public static async Task<CacheLock> AcquireAsync(string cacheDir, string key, Action<string>? progress, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(cacheDir, "locks");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, key + ".lock");
        var told = false;
        while (true)
        {
            try
            {
                return new CacheLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                if (!told)
                {
                    progress?.Invoke($"waiting for another build of {key} (lock {path})");
                    told = true;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
