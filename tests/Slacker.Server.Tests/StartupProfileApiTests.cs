using System.Net;
using System.Text;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

/// <summary>GET/PUT /api/v1/snapshots/{id}/profile on a real Kestrel server with SQLite: round trip, bad input, lifetime.</summary>
public sealed class StartupProfileApiTests
{
    [Fact]
    public async Task A_profile_round_trips_is_replaced_and_goes_with_its_snapshot()
    {
        await using var server = await InProcessServer.StartAsync(gcGrace: TimeSpan.Zero);
        var snapshot = await SnapshotOfOneGiBAsync(server);

        Assert.Null(await server.Client.GetStartupProfileAsync(snapshot));
        await server.Client.PutStartupProfileAsync(snapshot, new StartupProfile([5, 0, 16383, 42]));
        Assert.Equal([5L, 0, 16383, 42], (await server.Client.GetStartupProfileAsync(snapshot))!.Chunks);

        // The newest run replaces the profile.
        await server.Client.PutStartupProfileAsync(snapshot, new StartupProfile([1, 2]));
        Assert.Equal([1L, 2], (await server.Client.GetStartupProfileAsync(snapshot))!.Chunks);

        // Released and collected: the profile leaves with the snapshot, and gc is not stopped by it.
        await server.Client.ReleaseSnapshotAsync(snapshot);
        foreach (var volume in await server.Client.ListVolumesAsync())
        {
            await server.Client.DeleteVolumeAsync(volume.Id);
        }

        Assert.Equal(1, (await server.Client.GcAsync()).SnapshotsDeleted);
        var gone = await Assert.ThrowsAsync<BlockStoreException>(() => server.Client.PutStartupProfileAsync(snapshot, new StartupProfile([1])));
        Assert.Equal(ErrorCodes.SnapshotUnknown, gone.Code);
        Assert.Null(await server.Client.GetStartupProfileAsync(snapshot));
    }

    [Theory]
    [InlineData("{\"chunks\":[16384]}", "INDEX_OUT_OF_RANGE", "16384")]
    [InlineData("{\"chunks\":[-1]}", "INDEX_OUT_OF_RANGE", "-1")]
    [InlineData("{\"chunks\":[3,4,3]}", "JSON_INVALID", "listed twice")]
    [InlineData("{}", "JSON_INVALID", "chunks")]
    [InlineData("{\"chunks\":[\"a\"]}", "JSON_INVALID", "")]
    [InlineData("not json", "JSON_INVALID", "")]
    public async Task Bad_profiles_are_refused_with_a_clear_error_and_store_nothing(string body, string code, string mentions)
    {
        await using var server = await InProcessServer.StartAsync();
        var snapshot = await SnapshotOfOneGiBAsync(server);

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await server.Http.PutAsync(new Uri(server.Address, $"api/v1/snapshots/{snapshot}/profile"), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"\"error\":\"{code}\"", text, StringComparison.Ordinal);
        Assert.Contains(mentions, text, StringComparison.Ordinal);
        Assert.Null(await server.Client.GetStartupProfileAsync(snapshot));
    }

    [Fact]
    public async Task Unknown_snapshots_and_malformed_ids_are_named()
    {
        await using var server = await InProcessServer.StartAsync();
        var unknown = Digest.Compute("no such snapshot"u8);

        var put = await Assert.ThrowsAsync<BlockStoreException>(() => server.Client.PutStartupProfileAsync(unknown, new StartupProfile([0])));
        Assert.Equal((404, ErrorCodes.SnapshotUnknown), (put.StatusCode, put.Code));
        Assert.Null(await server.Client.GetStartupProfileAsync(unknown));

        using var response = await server.Http.GetAsync(new Uri(server.Address, "api/v1/snapshots/sha256:xyz/profile"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("DIGEST_INVALID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A 1 GiB volume of 64 KiB chunks (16384 of them) with one chunk, snapshotted.</summary>
    private static async Task<Digest> SnapshotOfOneGiBAsync(InProcessServer server)
    {
        var chunk = (await server.UploadRandomChunksAsync(1, 65536, new Random(3)))[0];
        var volume = await server.Client.CreateVolumeAsync(1L << 30, 65536);
        await server.Client.UpdateMapAsync(volume.Id, [new BlockMapEntry(9, chunk.Digest.ToString())]);
        return Digest.Parse((await server.Client.SnapshotAsync(volume.Id)).Id);
    }
}
