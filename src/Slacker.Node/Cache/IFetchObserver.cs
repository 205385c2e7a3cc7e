namespace Slacker.Node.Cache;

/// <summary>Told about each chunk that a fetch brought from the server on someone's behalf (per-volume stats).</summary>
public interface IFetchObserver
{
    void OnChunkFetched(int bytes);
}
