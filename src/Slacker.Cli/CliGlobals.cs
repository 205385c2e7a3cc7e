using System.CommandLine;
using Slacker.Core.Api;

namespace Slacker.Cli;

/// <summary>Options every client command shares, and the one way commands reach the server.</summary>
public static class CliGlobals
{
    public const string DefaultServer = "http://127.0.0.1:7070";

    public static readonly Option<string> Server = new("--server")
    {
        Description = "The Slacker server's URL, or several of one cluster separated by commas (env SLACKER_SERVER).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SLACKER_SERVER") is { Length: > 0 } fromEnv ? fromEnv : DefaultServer,
    };

    /// <summary>The failover handler for a list of several servers; null for one (a plain handler does).</summary>
    public static HttpMessageHandler? Handler(ServerList servers) =>
        servers.Servers.Count > 1 ? new ServerFailoverHandler(servers, new SocketsHttpHandler()) : null;

    public static HttpClient CreateHttpClient(ParseResult parse)
    {
        return ServerList.Parse(parse.GetValue(Server) ?? DefaultServer).CreateClient(TimeSpan.FromMinutes(10));
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
