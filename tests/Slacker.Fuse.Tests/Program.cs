namespace Slacker.Fuse.Tests;

/// <summary>
/// The test assembly doubles as a small console program (the test host never calls Main):
///   dotnet Slacker.Fuse.Tests.dll serve MOUNTPOINT   mount a MemoryFile and wait to be killed (crash simulation)
///   dotnet Slacker.Fuse.Tests.dll perf [SECONDS] [RUNS]   print the FUSE benchmark table (docs/perf/fuse.md)
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "serve" when args.Length == 2:
                var session = FuseSession.Mount(args[1], new MemoryFile(1 << 20));
                Console.WriteLine($"ready {session.ConnectionId}");
                Console.Out.Flush();
                Thread.Sleep(Timeout.Infinite);
                return 0;
            case "perf":
                var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
                var runs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
                Console.WriteLine(FuseBenchmark.Run(TimeSpan.FromSeconds(seconds), runs, Console.Error.WriteLine));
                return 0;
            default:
                Console.Error.WriteLine("usage: Slacker.Fuse.Tests.dll serve MOUNTPOINT | perf [SECONDS] [RUNS]");
                return 2;
        }
    }
}
