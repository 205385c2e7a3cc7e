namespace Slacker.Images.Sources;

public enum BlobProblem
{
    Truncated,
    TooLong,
    DigestMismatch,
}

/// <summary>A blob's bytes do not match its descriptor (size or SHA-256). The message names the blob and the source.</summary>
public sealed class BlobVerificationException : Exception
{
    public BlobVerificationException(BlobProblem problem, string message) : base(message) => Problem = problem;

    public BlobVerificationException() { }

    public BlobVerificationException(string message) : base(message) { }

    public BlobVerificationException(string message, Exception inner) : base(message, inner) { }

    public BlobProblem Problem { get; }
}
