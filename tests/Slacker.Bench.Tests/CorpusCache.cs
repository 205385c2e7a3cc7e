using Slacker.Bench.Build;

namespace Slacker.Bench.Tests;

/// <summary>
/// The corpus cache every test shares (and shares with other projects' tests and the bench itself), so the
/// Debian minbase is made by mmdebstrap once per machine, not once per test.
/// </summary>
internal static class CorpusCache
{
    public static string Dir => CorpusBuilder.CacheDirFromEnvironment();

    public static void Progress(string message) => Console.Error.WriteLine($"[corpus] {message}");
}
