using Slacker.Bench.Processes;
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

    private string NodeLog => "\nnode:\n" + _cluster.Node?.Output;

    [Fact]
    public async Task Run_Rm_Echo_Prints_Hello_And_Exit_Codes_Pass_Through()
    {
        var hello = await _cluster.CliAsync("run", "--rm", "busybox:1", "echo", "hello");
        Assert.True(hello.ExitCode == 0, hello + NodeLog);
        Assert.Equal("hello\n", hello.Stdout);

        var seven = await _cluster.CliAsync("run", "--rm", "busybox:1", "sh", "-c", "exit 7");
        Assert.True(seven.ExitCode == 7, seven + NodeLog);

        var ps = await _cluster.CliAsync("ps", "-a", "-q");
        Assert.Equal("", ps.Stdout);
        Assert.DoesNotContain(_cluster.MountsUnderRoot(), m => m.Contains("/mnt/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stdin_Env_Workdir_User_Bind_Mount_Tty_And_Network_None()
    {
        var script = await _cluster.CliWithStdinAsync("echo from script; echo $((6 * 7))\nexit 3\n", "run", "--rm", "-i", "busybox:1", "sh");
        Assert.True(script.ExitCode == 3, script + NodeLog);
        Assert.Equal("from script\n42\n", script.Stdout);

        var identity = await _cluster.CliAsync("run", "--rm", "-e", "GREETING=hi there", "-w", "/srv/app", "-u", "app",
            "busybox:1", "sh", "-c", "echo \"$GREETING\"; pwd; id -u; id -g");
        Assert.True(identity.ExitCode == 0, identity + NodeLog);
        Assert.Equal("hi there\n/srv/app\n1000\n1000\n", identity.Stdout);

        var host = Path.Join(_cluster.Root, "bind");
        Directory.CreateDirectory(host);
        await File.WriteAllTextAsync(Path.Join(host, "in.txt"), "from the host\n");
        var bind = await _cluster.CliAsync("run", "--rm", "-v", $"{host}:/data", "-v", $"{host}:/ro:ro", "busybox:1",
            "sh", "-c", "cat /data/in.txt; echo out > /data/out.txt; echo x > /ro/x 2>/dev/null || echo read-only");
        Assert.True(bind.ExitCode == 0, bind + NodeLog);
        Assert.Equal("from the host\nread-only\n", bind.Stdout);
        Assert.Equal("out\n", await File.ReadAllTextAsync(Path.Join(host, "out.txt")));

        var terminal = await _cluster.CliAsync("run", "--rm", "-t", "busybox:1", "tty");
        Assert.True(terminal.ExitCode == 0, terminal + NodeLog);
        Assert.Equal("/dev/pts/0\r\n", terminal.Stdout);

        var network = await _cluster.CliAsync("run", "--rm", "--network", "none", "busybox:1", "ls", "/sys/class/net");
        Assert.True(network.ExitCode == 0, network + NodeLog);
        Assert.Equal("lo\n", network.Stdout);
    }

    [Fact]
    public async Task Detached_Server_Logs_Answers_Stops_And_Is_Removed()
    {
        var port = FreePort.Pick();
        var run = await _cluster.CliAsync("run", "-d", "--name", "web", "--network", "host", "busybox:1",
            "sh", "-c", $"sleep 1; echo server ready; exec httpd -f -v -p 127.0.0.1:{port} -h /var/www");
        Assert.True(run.ExitCode == 0, run + NodeLog);
        Assert.Equal(64, run.Stdout.Trim().Length);

        // Followed before the container said anything (its log file does not exist yet): logs -f must wait.

        await using var logs = new SlackerProcess.Background(["logs", "-f", "--socket", _cluster.Socket, "web"]);
        await logs.WaitForOutputAsync("server ready", TimeSpan.FromMinutes(1));

        using var http = new HttpClient();
        string? page = null;
        for (var attempt = 0; attempt < 100 && page is null; attempt++)
        {
            try
            {
                page = await http.GetStringAsync($"http://127.0.0.1:{port}/index.html");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal("hello from slacker\n", page);
        var ps = await _cluster.CliAsync("ps");
        Assert.Contains("web", ps.Stdout, StringComparison.Ordinal);
        Assert.Contains("Up ", ps.Stdout, StringComparison.Ordinal);

        var stop = await _cluster.CliAsync("stop", "-t", "2", "web");
        Assert.True(stop.ExitCode == 0, stop + NodeLog);
        await logs.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        var exited = await _cluster.CliAsync("ps", "-a");
        Assert.Contains("Exited (", exited.Stdout, StringComparison.Ordinal);
        Assert.Empty((await _cluster.CliAsync("ps")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1));

        var rm = await _cluster.CliAsync("rm", "web");
        Assert.True(rm.ExitCode == 0, rm + NodeLog);
        Assert.Equal("", (await _cluster.CliAsync("ps", "-a", "-q")).Stdout);
        var gone = await _cluster.CliAsync("logs", "web");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("No such container", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clear_Errors_For_Unknown_Image_Container_Bad_Flag_And_Missing_Runtime()
    {
        var image = await _cluster.CliAsync("run", "--rm", "nosuchimage:1", "true");
        Assert.Equal(125, image.ExitCode);
        Assert.Contains("No such image: 'nosuchimage:1'", image.Stderr, StringComparison.Ordinal);

        var container = await _cluster.CliAsync("stop", "nosuchcontainer");
        Assert.Equal(1, container.ExitCode);
        Assert.Contains("No such container: 'nosuchcontainer'", container.Stderr, StringComparison.Ordinal);

        var flag = await _cluster.CliAsync("run", "--bogus-flag", "busybox:1", "true");
        Assert.NotEqual(0, flag.ExitCode);
        Assert.Contains("--bogus-flag", flag.Stderr + flag.Stdout, StringComparison.Ordinal);

        var runtime = await _cluster.CliAsync("run", "--rm", "--runtime", "no-such-runtime", "busybox:1", "true");
        Assert.Equal(125, runtime.ExitCode);
        Assert.Contains("OCI runtime 'no-such-runtime' is not installed", runtime.Stderr, StringComparison.Ordinal);

        var user = await _cluster.CliAsync("run", "--rm", "-u", "nosuchuser", "busybox:1", "true");
        Assert.Equal(125, user.ExitCode);
        Assert.Contains("User 'nosuchuser' is not in the image's /etc/passwd", user.Stderr, StringComparison.Ordinal);
        Assert.Equal("", (await _cluster.CliAsync("ps", "-a", "-q")).Stdout);
    }
}
