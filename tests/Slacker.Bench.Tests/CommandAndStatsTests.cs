using System.CommandLine;
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

    [Theory]
    [InlineData("{\"bytesFetched\": 1234, \"volumeBytes\": 99999}", 1234L, 99999L)]
    [InlineData("{\"container\": \"x\", \"io\": {\"fetchedBytes\": 7}}", 7L, null)]
    [InlineData("[{\"BytesFetched\": 5, \"imageBytes\": 6}]", 5L, 6L)]
    [InlineData("not json", null, null)]
    public void Slacker_Stats_Json_Yields_Fetched_Bytes(string json, long? fetched, long? size)
    {
        var (f, s) = SlackerDriver.ReadStats(json);

        Assert.Equal(fetched, f);
        Assert.Equal(size, s);
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
