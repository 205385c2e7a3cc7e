namespace Slacker.Core.Api;

/// <summary>
/// A block-store request that failed, with the API's error code (docs/API.md). The engine throws it and the
/// server turns it into <c>{"error", "message"}</c>; the client rebuilds it from that document, so the same
/// code and message reach the caller on both sides of the wire.
/// </summary>
public sealed class BlockStoreException : Exception
{
    public BlockStoreException(int statusCode, string code, string message)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
    }

    public BlockStoreException(int statusCode, string code, string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Code = code;
    }

    /// <summary>HTTP status, or 0 when the server could not be reached at all.</summary>
    public int StatusCode { get; }

    public string Code { get; }
}
