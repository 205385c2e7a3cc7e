namespace Slacker.Core.Engine;

/// <summary>
/// Serialises work on the same key (a volume) inside one process without a lock object per key: a fixed set
/// of async mutexes picked by hash. Two keys may share a stripe; that only costs a little waiting.
/// </summary>
internal sealed class StripedLock
{
    private readonly SemaphoreSlim[] _stripes;

    public StripedLock(int stripes = 64)
    {
        _stripes = new SemaphoreSlim[stripes];
        for (var i = 0; i < stripes; i++)
        {
            _stripes[i] = new SemaphoreSlim(1, 1);
        }
    }

    public async ValueTask<Releaser> AcquireAsync(string key, CancellationToken ct)
    {
        var stripe = _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_stripes.Length)];
        await stripe.WaitAsync(ct);
        return new Releaser(stripe);
    }

    public readonly struct Releaser(SemaphoreSlim stripe) : IDisposable
    {
        public void Dispose() => stripe.Release();
    }
}
