namespace Slacker.Node.TestHost;

/// <summary>What file n holds; the crash test recomputes it with the same formula.</summary>
internal static class CrashContent
{
    public static byte[] For(int n)
    {
        var bytes = new byte[(64 * 1024) + (n * 1000)];
        new Random(n).NextBytes(bytes);
        return bytes;
    }
}
