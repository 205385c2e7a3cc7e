using System.CommandLine;
using System.Text.Json;
using Slacker.Node.Agent;
using Slacker.Node.Volumes;
using Slacker.Bench.Drivers;

namespace Slacker.Bench.Tests;

public sealed class CommandAndStatsTests
{
    [Fact]
    public void Bench_Command_Parses_The_Documented_Options()
    {
        var command = BenchCommand.Create();
        var root = new RootCommand { command };

        var parse = root.Parse(["bench", "--corpus", "c.json", "--systems", "docker,podman", "--reps", "5", "--images", "a,b", "--out", "o", "--smoke", "--cache", "k"]);

        Assert.Empty(parse.Errors);
        Assert.Equal("bench", command.Name);
        foreach (var option in new[] { "--corpus", "--systems", "--reps", "--images", "--out", "--smoke", "--cache", "--slacker-cli" })
        {
            Assert.Contains(command.Options, o => o.Name == option);
        }

        Assert.NotEmpty(root.Parse(["bench", "--reps", "many"]).Errors);
    }

    [Fact]
    public async Task Report_Option_Renders_An_Existing_Results_File()
    {
        var dir = Directory.CreateTempSubdirectory("hb-cmd-").FullName;
        try
        {
            var results = Path.Combine(dir, "results.jsonl");
            File.WriteAllLines(results,
            [
                "{\"kind\":\"run\",\"reps\":1}",
                "{\"kind\":\"system\",\"system\":\"docker\",\"status\":\"ok\"}",
                "{\"kind\":\"measure\",\"system\":\"docker\",\"image\":\"debian\",\"rep\":1,\"op\":\"pull\",\"seconds\":2.5}",
            ]);
            var root = new RootCommand { BenchCommand.Create() };

            var exit = await root.Parse(["bench", "--report", results]).InvokeAsync();

            Assert.Equal(0, exit);
            Assert.Contains("| debian |  |  | — | docker | — | 2.500 |", File.ReadAllText(Path.Combine(dir, "report.md")));
            Assert.True(File.Exists(Path.Combine(dir, "times.svg")));
            Assert.Equal(2, await root.Parse(["bench", "--report", Path.Combine(dir, "absent.jsonl")]).InvokeAsync());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Slacker_Stats_Json_Is_Read_With_The_Node_Api_Type_That_Writes_It()
    {
        var volume = new VolumeStatsSnapshot("vol-1", 3, 196608, 10, 3, 0, 0, 13, 65536, 0, 0, 0, 0, 0, 0, 0);
        var json = JsonSerializer.Serialize(new ContainerStats("id", "c", "img", "vol-1", 1 << 30, 65536, false, volume), AgentJsonContext.Default.ContainerStats);

        var stats = SlackerDriver.ReadStats(json);

        Assert.Equal((196608L, 65536L, 1L << 30), (stats.Fetched!.Value, stats.Read!.Value, stats.ImageBytes!.Value));
        Assert.Contains("no volume figures", Assert.Throws<InvalidDataException>(() => SlackerDriver.ReadStats(
            JsonSerializer.Serialize(new ContainerStats("id", "c", "img", null, 1, 65536, false, null), AgentJsonContext.Default.ContainerStats))).Message);
        Assert.Contains("did not print", Assert.Throws<InvalidDataException>(() => SlackerDriver.ReadStats("not json")).Message);
    }
}

public sealed class FirstAnswerProbeTests
{
    [Fact]
    public void Postgres_Startup_Message_Has_Length_Protocol_And_Parameters()
    {
        var message = Slacker.Bench.Parity.FirstAnswerProbe.PostgresStartup("postgres", "db");

        Assert.Equal(message.Length, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(message));
        Assert.Equal(196608, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(message.AsSpan(4)));
        Assert.Equal("user\0postgres\0database\0db\0\0", System.Text.Encoding.ASCII.GetString(message, 8, message.Length - 8));
    }
}
