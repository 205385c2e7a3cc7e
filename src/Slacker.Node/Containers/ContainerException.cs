namespace Slacker.Node.Containers;

/// <summary>A container operation that failed for a reason the caller can act on; Code maps to an API error.</summary>
public sealed class ContainerException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;
}

public static class ContainerErrors
{
    public const string BadRequest = "BAD_REQUEST";
    public const string ContainerUnknown = "CONTAINER_UNKNOWN";
    public const string ImageUnknown = "IMAGE_UNKNOWN";
    public const string NameInUse = "NAME_IN_USE";
    public const string Conflict = "CONTAINER_STATE";
    public const string RuntimeMissing = "RUNTIME_MISSING";
    public const string RuntimeFailed = "RUNTIME_FAILED";
    public const string ServerUnreachable = "SERVER_UNREACHABLE";
}
