using System.CommandLine;
using Slacker.Core.Api;

namespace Slacker.Cli;

/// <summary>Options every client command shares, and the one way commands reach the server.</summary>
public static class CliGlobals
{
    public const string DefaultServer = "http://127.0.0.1:7070";

    public static readonly Option<string> Server = new("--server")
    {
        Description = "The Slacker server's URL (env SLACKER_SERVER).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SLACKER_SERVER") is { Length: > 0 } fromEnv ? fromEnv : DefaultServer,
    };

    public static HttpClient CreateHttpClient(ParseResult parse)
    {
        var text = parse.GetValue(Server) ?? DefaultServer;
        if (!Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text, UriKind.Absolute, out var address))
        {
            throw new BlockStoreException(0, ErrorCodes.ServerUnreachable, $"--server '{text}' is not a URL: write e.g. http://127.0.0.1:7070.");
        }

        return new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(10) };
    }

    /// <summary>Runs a command body, turning the failures a user can fix into one clear line and exit code 1.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (BlockStoreException e)
        {
            await Console.Error.WriteLineAsync($"slacker: {e.Message}" + (e.StatusCode > 0 ? $" [{e.Code}, HTTP {e.StatusCode}]" : ""));
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or FormatException)
        {
            await Console.Error.WriteLineAsync($"slacker: {e.Message}");
            return 1;
        }
    }
}
