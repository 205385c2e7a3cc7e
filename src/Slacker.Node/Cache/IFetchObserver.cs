namespace Slacker.Node.Cache;

/// <summary>Told about each chunk that a fetch brought from the server on someone's behalf (per-volume stats).</summary>
public interface IFetchObserver
{
    void OnChunkFetched(int bytes);

    /// <summary>
    /// A fetch claimed <paramref name="onDemand"/> chunks that a read waits for and <paramref name="ahead"/> chunks
    /// of read-ahead (chunks already on their way for someone else are not claimed again).
    /// </summary>
    void OnRequested(int onDemand, int ahead)
    {
    }
}
