using System.Net;

namespace Slacker.Images.Distribution;

/// <summary>A registry answered with an error; <see cref="Code"/> is the OCI error code when it sent one.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException(string message, HttpStatusCode status, string? code = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Code = code;
    }

    public RegistryException() { }

    public RegistryException(string message) : base(message) { }

    public RegistryException(string message, Exception inner) : base(message, inner) { }

    public HttpStatusCode Status { get; }

    public string? Code { get; }
}
