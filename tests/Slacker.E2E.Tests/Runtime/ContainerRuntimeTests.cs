using System.Text;
using Slacker.Node.Containers;

namespace Slacker.E2E.Tests.Runtime;

/// <summary>The runtime layer with real crun/runc against a plain directory root: bundle, stdio, exit codes, signals.</summary>
public sealed class ContainerRuntimeTests
{
    [Theory]
    [InlineData("crun")]
    [InlineData("runc")]
    public async Task Echo_Prints_Hello_And_Exits_Zero(string runtime)
    {
        await using var fixture = await RuntimeFixture.CreateAsync(runtime);
        var (exitCode, stdout, _) = await fixture.RunAsync(fixture.Config("echo", "hello"));
        Assert.Equal(0, exitCode);
        Assert.Equal("hello\n", stdout);
    }

    [Fact]
    public async Task Exit_Code_Is_The_Containers()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var (exitCode, _, stderr) = await fixture.RunAsync(fixture.Config("sh", "-c", "echo oops >&2; exit 7"));
        Assert.Equal(7, exitCode);
        Assert.Equal("oops\n", stderr);
    }

    [Fact]
    public async Task Env_Workdir_User_And_Image_Env_Reach_The_Process()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var config = fixture.Config("sh", "-c", "echo $FOO $FROM_IMAGE $HOME; pwd; id -u; id -g; id -G") with
        {
            Env = ["FOO=bar"],
            WorkingDir = "/work/dir",
            User = "app",
        };
        var (exitCode, stdout, stderr) = await fixture.RunAsync(config);
        Assert.True(exitCode == 0, stderr);
        Assert.Equal("bar yes /home/app\n/work/dir\n1000\n1000\n1000 50\n", stdout);
    }

    [Fact]
    public async Task Unknown_User_Is_A_Clear_Error_And_Leaves_No_Container()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var error = await Assert.ThrowsAsync<ContainerException>(() =>
            fixture.Manager.CreateAsync(fixture.Config("id") with { User = "nosuchuser" }, CancellationToken.None));
        Assert.Contains("nosuchuser", error.Message, StringComparison.Ordinal);
        Assert.Empty(fixture.Manager.List(all: true));
    }

    [Fact]
    public async Task Bind_Mount_Is_Visible_And_Read_Only_When_Asked()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var host = Directory.CreateTempSubdirectory("slacker-bind-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Join(host, "in.txt"), "from host\n");
            var (exitCode, stdout, _) = await fixture.RunAsync(
                fixture.Config("sh", "-c", "cat /data/in.txt; echo x > /data/out.txt && echo wrote || echo refused") with { Binds = [$"{host}:/data:ro"] });
            Assert.Equal(0, exitCode);
            Assert.Equal("from host\nrefused\n", stdout);
            Assert.False(File.Exists(Path.Join(host, "out.txt")));
        }
        finally
        {
            Directory.Delete(host, recursive: true);
        }
    }

    [Fact]
    public async Task Network_None_Has_Only_Loopback_And_Host_Shares_The_Hosts()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var (_, none, _) = await fixture.RunAsync(fixture.Config("sh", "-c", "ls /sys/class/net"));
        Assert.Equal("lo\n", none);
        var (_, host, _) = await fixture.RunAsync(fixture.Config("sh", "-c", "ls /sys/class/net") with { Network = NetworkModes.Host });
        var hostInterfaces = string.Join('\n', Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).Order(StringComparer.Ordinal)) + "\n";
        Assert.Equal(hostInterfaces, host);
    }

    [Fact]
    public async Task Stdin_Script_Runs_When_Stdin_Is_Open()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var record = await fixture.Manager.CreateAsync(fixture.Config("sh") with { OpenStdin = true }, CancellationToken.None);
        using var attachment = fixture.Manager.Attach(record.Id);
        await fixture.Manager.StartAsync(record.Id, CancellationToken.None);
        await attachment.WriteStdinAsync(Encoding.UTF8.GetBytes("echo from stdin\nexit 3\n"), CancellationToken.None);
        attachment.CloseStdin();
        var text = new StringBuilder();
        await foreach (var frame in attachment.Output.ReadAllAsync())
        {
            text.Append(Encoding.UTF8.GetString(frame.Data));
        }

        var done = await attachment.WaitAsync(CancellationToken.None);
        Assert.Equal(3, done.ExitCode);
        Assert.Equal("from stdin\n", text.ToString());
    }

    [Fact]
    public async Task Terminal_Gives_The_Container_A_Pty()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var (exitCode, stdout, _) = await fixture.RunAsync(fixture.Config("sh", "-c", "tty; stty size") with
        {
            Tty = true,
            ConsoleHeight = 40,
            ConsoleWidth = 100,
        });
        Assert.Equal(0, exitCode);
        Assert.Equal("/dev/pts/0\r\n40 100\r\n", stdout);
    }

    [Fact]
    public async Task Stop_Ends_A_Process_That_Ignores_Sigterm_With_Sigkill()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var record = await fixture.Manager.CreateAsync(fixture.Config("sleep", "1000"), CancellationToken.None);
        await fixture.Manager.StartAsync(record.Id, CancellationToken.None);
        Assert.Equal(ContainerStatus.Running, fixture.Manager.Get(record.Id).Status);
        await fixture.Manager.StopAsync(record.Id, TimeSpan.FromMilliseconds(500), CancellationToken.None);
        var done = fixture.Manager.Get(record.Id);
        Assert.Equal(ContainerStatus.Exited, done.Status);
        Assert.Equal(137, done.ExitCode);
    }

    [Fact]
    public async Task Stop_Lets_A_Process_With_A_Handler_Exit_Cleanly()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var record = await fixture.Manager.CreateAsync(
            fixture.Config("sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done"), CancellationToken.None);
        await fixture.Manager.StartAsync(record.Id, CancellationToken.None);
        await fixture.WaitForOutputAsync(record.Id, "ready");

        await fixture.Manager.StopAsync(record.Id, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(0, fixture.Manager.Get(record.Id).ExitCode);
        Assert.Equal("ready\nbye\n", fixture.ReadLog(record.Id).Stdout);
    }

    [Fact]
    public async Task Auto_Remove_Removes_The_Container_After_Its_Exit()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var record = await fixture.Manager.CreateAsync(fixture.Config("sh", "-c", "exit 4") with { AutoRemove = true }, CancellationToken.None);
        using var attachment = fixture.Manager.Attach(record.Id);
        await fixture.Manager.StartAsync(record.Id, CancellationToken.None);
        var done = await attachment.WaitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(4, done.ExitCode);
        Assert.Empty(fixture.Manager.List(all: true));
        Assert.False(Directory.Exists(fixture.Manager.Store.DirectoryOf(record.Id)));
    }

    [Fact]
    public async Task Missing_Runtime_Is_A_Clear_Error()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var error = await Assert.ThrowsAsync<ContainerException>(() =>
            fixture.Manager.CreateAsync(fixture.Config("true") with { Runtime = "no-such-runtime" }, CancellationToken.None));
        Assert.Equal(ContainerErrors.RuntimeMissing, error.Code);
        Assert.Contains("no-such-runtime", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_Survives_A_New_Manager_On_The_Same_Data_Dir()
    {
        await using var fixture = await RuntimeFixture.CreateAsync();
        var record = await fixture.Manager.CreateAsync(fixture.Config("sh", "-c", "exit 5") with { Name = "five" }, CancellationToken.None);
        await fixture.Manager.StartAsync(record.Id, CancellationToken.None);
        await fixture.Manager.WaitAsync(record.Id, CancellationToken.None);

        var again = new ContainerManager(new ContainerStore(fixture.Data), fixture.Roots, "crun", Path.Join(fixture.Data, "runtime"),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await again.RecoverAsync(CancellationToken.None);
        var recovered = again.Get("five");
        Assert.Equal(ContainerStatus.Exited, recovered.Status);
        Assert.Equal(5, recovered.ExitCode);
    }
}
