namespace Slacker.Server.Registry;

/// <summary>An OCI distribution error: HTTP status, spec error code, and a message that says what to do.</summary>
public sealed class RegistryApiException : Exception
{
    public RegistryApiException(int status, string code, string message, string? detail = null) : base(message)
    {
        Status = status;
        Code = code;
        Detail = detail;
    }

    public RegistryApiException() { }

    public RegistryApiException(string message) : base(message) { }

    public RegistryApiException(string message, Exception inner) : base(message, inner) { }

    public int Status { get; }

    public string Code { get; } = "";

    public string? Detail { get; }

    public static RegistryApiException BlobUnknown(string digest) => new(404, "BLOB_UNKNOWN", $"blob {digest} is not in this repository: push it first.");

    public static RegistryApiException ManifestUnknown(string repo, string reference) => new(404, "MANIFEST_UNKNOWN", $"manifest {repo}:{reference} is not known: check the name and tag.");

    public static RegistryApiException NameUnknown(string repo) => new(404, "NAME_UNKNOWN", $"repository {repo} is not known to this registry.");

    public static RegistryApiException NameInvalid(string repo) => new(400, "NAME_INVALID", $"'{repo}' is not a valid repository name: lowercase letters, digits and . _ - / separators.");

    public static RegistryApiException DigestInvalid(string text, string why) => new(400, "DIGEST_INVALID", $"'{text}': {why}");

    public static RegistryApiException UploadUnknown(string id) => new(404, "BLOB_UPLOAD_UNKNOWN", $"upload {id} is not in progress here: start a new upload with POST /v2/<name>/blobs/uploads/.");

    public static RegistryApiException Unsupported(string what) => new(405, "UNSUPPORTED", $"{what} is not supported by this registry.");
}
