namespace Slacker.Images.Oci;

/// <summary>An image document (manifest, index, config, archive) is malformed. The message says what and how to fix it.</summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException(string message) : base(message) { }

    public ImageFormatException(string message, Exception inner) : base(message, inner) { }

    public ImageFormatException() { }
}
