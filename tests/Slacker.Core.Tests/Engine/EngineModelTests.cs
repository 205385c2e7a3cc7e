using CsCheck;

namespace Slacker.Core.Tests.Engine;

/// <summary>
/// Random histories of writes, snapshots, clones, deletes, releases and gc against a simple model: every kept
/// snapshot must read back exactly as it was taken, and fsck must stay clean.
/// </summary>
public sealed class EngineModelTests
{
    private static readonly Gen<(int, int, int, int)[]> Histories =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 1000]).Array[1, 40];

    [Fact]
    public async Task Random_histories_read_back_as_taken()
    {
        await Check.SampleAsync(Histories, async history =>
        {
            await using var harness = new EngineHarness(realFiles: false);
            await harness.InitializeAsync();
            foreach (var step in history)
            {
                await harness.ApplyAsync(step);
            }

            await harness.VerifyAsync(snapshotVolumes: true);
        }, iter: 60, threads: 1);
    }

    [Fact]
    public async Task A_long_history_over_real_files_and_sqlite_reads_back_as_taken()
    {
        await using var harness = new EngineHarness(realFiles: true);
        await harness.InitializeAsync();
        var random = new Random(20240601);
        for (var i = 0; i < 250; i++)
        {
            await harness.ApplyAsync((random.Next(8), random.Next(1000), random.Next(1000), random.Next(1000)));
        }

        await harness.VerifyAsync(snapshotVolumes: true);
        Assert.Equal(250, harness.Operations);
    }
}
