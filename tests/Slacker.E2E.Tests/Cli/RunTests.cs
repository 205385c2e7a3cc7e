using Slacker.E2E.Tests.Fixtures;

namespace Slacker.E2E.Tests.Cli;

/// <summary>`slacker run` end to end: real server, real node, real crun, a lazily attached clone as the root.</summary>
public sealed class RunTests : IAsyncLifetime
{
    private SlackerCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await SlackerCluster.StartAsync();
        await _cluster.ImportBusyboxAsync("busybox:1");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Run_Rm_Echo_Prints_Hello_And_Exit_Codes_Pass_Through()
    {
        var hello = await _cluster.CliAsync("run", "--rm", "busybox:1", "echo", "hello");
        Assert.True(hello.ExitCode == 0, hello + "\nnode:\n" + _cluster.Node!.Output);
        Assert.Equal("hello\n", hello.Stdout);

        var seven = await _cluster.CliAsync("run", "--rm", "busybox:1", "sh", "-c", "exit 7");
        Assert.True(seven.ExitCode == 7, seven + "\nnode:\n" + _cluster.Node!.Output);

        var ps = await _cluster.CliAsync("ps", "-a", "-q");
        Assert.Equal("", ps.Stdout);
        Assert.DoesNotContain(_cluster.MountsUnderRoot(), m => m.Contains("/mnt/", StringComparison.Ordinal));
    }
}
