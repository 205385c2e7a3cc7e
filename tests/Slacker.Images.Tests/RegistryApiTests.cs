using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Oci;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>The server's /v2 API over real HTTP: the distribution spec's flows and error codes.</summary>
public sealed class RegistryApiTests(ServerFixture server) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server.Address };

    public void Dispose() => _http.Dispose();

    private static string ErrorCode(string body) =>
        JsonSerializer.Deserialize(body, ImagesJsonContext.Default.RegistryErrorBody)!.Errors[0].Code;

    private async Task<Digest> PushBlobAsync(string repo, byte[] data)
    {
        var digest = Digest.Compute(data);
        using var response = await _http.PostAsync($"/v2/{repo}/blobs/uploads/?digest={digest}", new ByteArrayContent(data));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return digest;
    }

    private async Task<HttpResponseMessage> PutManifestAsync(string repo, string reference, byte[] manifest, string mediaType = MediaTypes.OciManifest)
    {
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return await _http.PutAsync($"/v2/{repo}/manifests/{reference}", content);
    }

    private static byte[] Manifest(OciDescriptor config, params OciDescriptor[] layers) =>
        JsonSerializer.SerializeToUtf8Bytes(new OciManifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = layers }, ImagesJsonContext.Default.OciManifest);

    private static OciDescriptor Describe(byte[] data, string mediaType) => new() { MediaType = mediaType, Digest = Digest.Compute(data).ToString(), Size = data.Length };

    [Fact]
    public async Task Ping_answers_with_the_api_version_header()
    {
        using var response = await _http.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
    }

    [Fact]
    public async Task Chunked_upload_with_content_range_then_range_reads()
    {
        var data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => i.ToString("D5"))));
        var digest = Digest.Compute(data);
        using var start = await _http.PostAsync("/v2/chunked/app/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();

        var first = new ByteArrayContent(data[..10000]);
        first.Headers.TryAddWithoutValidation("Content-Range", "0-9999");
        using var patch1 = await _http.PatchAsync(location, first);
        Assert.Equal(HttpStatusCode.Accepted, patch1.StatusCode);
        Assert.Equal("0-9999", patch1.Headers.GetValues("Range").Single());

        // A chunk that does not continue where the upload is: 416 with the current range.
        var wrong = new ByteArrayContent(data[5000..6000]);
        wrong.Headers.TryAddWithoutValidation("Content-Range", "5000-5999");
        using var patchWrong = await _http.PatchAsync(patch1.Headers.Location!, wrong);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, patchWrong.StatusCode);
        Assert.Equal("0-9999", patchWrong.Headers.GetValues("Range").Single());

        var second = new ByteArrayContent(data[10000..]);
        second.Headers.TryAddWithoutValidation("Content-Range", $"10000-{data.Length - 1}");
        using var patch2 = await _http.PatchAsync(patch1.Headers.Location!, second);
        Assert.Equal(HttpStatusCode.Accepted, patch2.StatusCode);
        using var put = await _http.PutAsync(patch2.Headers.Location + $"?digest={digest}", null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(digest.ToString(), put.Headers.GetValues("Docker-Content-Digest").Single());

        using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/chunked/app/blobs/{digest}");
        using var headResponse = await _http.SendAsync(head);
        Assert.Equal(data.Length, headResponse.Content.Headers.ContentLength);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/v2/chunked/app/blobs/{digest}");
        ranged.Headers.Range = new RangeHeaderValue(100, 199);
        using var rangeResponse = await _http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, rangeResponse.StatusCode);
        Assert.Equal(data[100..200], await rangeResponse.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 100-199/{data.Length}", rangeResponse.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task An_upload_whose_bytes_do_not_match_the_digest_is_refused_and_nothing_is_linked()
    {
        var claimed = Digest.Compute("something else"u8);
        using var response = await _http.PostAsync($"/v2/bad/blobs/uploads/?digest={claimed}", new ByteArrayContent("actual"u8.ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("DIGEST_INVALID", ErrorCode(await response.Content.ReadAsStringAsync()));
        using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/bad/blobs/{Digest.Compute("actual"u8)}");
        Assert.Equal(HttpStatusCode.NotFound, (await _http.SendAsync(head)).StatusCode);
    }

    [Fact]
    public async Task Cross_repository_mount_links_an_existing_blob_without_upload()
    {
        var digest = await PushBlobAsync("mount/source", "shared layer"u8.ToArray());
        using var mount = await _http.PostAsync($"/v2/mount/target/blobs/uploads/?mount={digest}&from=mount/source", null);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        using var get = await _http.GetAsync($"/v2/mount/target/blobs/{digest}");
        Assert.Equal("shared layer", await get.Content.ReadAsStringAsync());

        // Unknown blob: the registry starts an ordinary upload instead.
        using var fallback = await _http.PostAsync($"/v2/mount/target/blobs/uploads/?mount={Digest.Compute("nope"u8)}&from=mount/source", null);
        Assert.Equal(HttpStatusCode.Accepted, fallback.StatusCode);
    }

    [Fact]
    public async Task A_manifest_that_names_a_missing_blob_is_refused_with_MANIFEST_BLOB_UNKNOWN()
    {
        var config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"u8.ToArray();
        await PushBlobAsync("missing/blob", config);
        var ghost = Describe("never uploaded"u8.ToArray(), MediaTypes.OciLayerTarGzip);
        using var response = await PutManifestAsync("missing/blob", "v1", Manifest(Describe(config, MediaTypes.OciConfig), ghost));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("MANIFEST_BLOB_UNKNOWN", ErrorCode(body));
        Assert.Contains(ghost.Digest, body);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/v2/missing/blob/manifests/v1")).StatusCode);
    }

    [Theory]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example.unknown+json\"}", "MANIFEST_INVALID")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}", "MANIFEST_INVALID")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:XYZ\",\"size\":2},\"layers\":[]}", "MANIFEST_INVALID")]
    [InlineData("not json", "MANIFEST_INVALID")]
    public async Task Malformed_manifests_are_refused_with_a_spec_error(string manifest, string code)
    {
        using var response = await PutManifestAsync("malformed/app", "v1", Encoding.UTF8.GetBytes(manifest));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, ErrorCode(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Manifests_by_tag_and_digest_tags_with_pagination_catalog_referrers_and_delete()
    {
        const string repo = "flow/app";
        var config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"u8.ToArray();
        var layer = "layer bytes"u8.ToArray();
        await PushBlobAsync(repo, config);
        await PushBlobAsync(repo, layer);
        var manifest = Manifest(Describe(config, MediaTypes.OciConfig), Describe(layer, MediaTypes.OciLayerTar));
        var digest = Digest.Compute(manifest);
        foreach (var tag in new[] { "c", "a", "b" })
        {
            using var put = await PutManifestAsync(repo, tag, manifest);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(digest.ToString(), put.Headers.GetValues("Docker-Content-Digest").Single());
        }

        using (var byDigest = await _http.GetAsync($"/v2/{repo}/manifests/{digest}"))
        {
            Assert.Equal(manifest, await byDigest.Content.ReadAsByteArrayAsync());
            Assert.Equal(MediaTypes.OciManifest, byDigest.Content.Headers.ContentType!.MediaType);
        }

        using (var page1 = await _http.GetAsync($"/v2/{repo}/tags/list?n=2"))
        {
            var tags = JsonSerializer.Deserialize(await page1.Content.ReadAsStringAsync(), ImagesJsonContext.Default.TagList)!;
            Assert.Equal(["a", "b"], tags.Tags);
            Assert.Contains("last=b", page1.Headers.GetValues("Link").Single());
            using var page2 = await _http.GetAsync($"/v2/{repo}/tags/list?n=2&last=b");
            Assert.Equal(["c"], JsonSerializer.Deserialize(await page2.Content.ReadAsStringAsync(), ImagesJsonContext.Default.TagList)!.Tags);
            Assert.False(page2.Headers.Contains("Link"));
        }

        using (var catalog = await _http.GetAsync("/v2/_catalog"))
        {
            Assert.Contains(repo, JsonSerializer.Deserialize(await catalog.Content.ReadAsStringAsync(), ImagesJsonContext.Default.Catalog)!.Repositories);
        }

        // A signature-like artifact whose subject is the image.
        var empty = "{}"u8.ToArray();
        await PushBlobAsync(repo, empty);
        var referrer = JsonSerializer.SerializeToUtf8Bytes(new OciManifest
        {
            MediaType = MediaTypes.OciManifest,
            ArtifactType = "application/vnd.example.signature",
            Config = Describe(empty, ImageMediaTypes.OciEmpty),
            Layers = [],
            Subject = new OciDescriptor { MediaType = MediaTypes.OciManifest, Digest = digest.ToString(), Size = manifest.Length },
        }, ImagesJsonContext.Default.OciManifest);
        using (var put = await PutManifestAsync(repo, Digest.Compute(referrer).ToString(), referrer))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(digest.ToString(), put.Headers.GetValues("OCI-Subject").Single());
        }

        using (var referrers = await _http.GetAsync($"/v2/{repo}/referrers/{digest}?artifactType=application/vnd.example.signature"))
        {
            var index = JsonSerializer.Deserialize(await referrers.Content.ReadAsStringAsync(), ImagesJsonContext.Default.OciIndex)!;
            Assert.Equal(Digest.Compute(referrer).ToString(), Assert.Single(index.Manifests!).Digest);
            Assert.Equal("artifactType", referrers.Headers.GetValues("OCI-Filters-Applied").Single());
        }

        Assert.Equal(HttpStatusCode.Accepted, (await _http.DeleteAsync($"/v2/{repo}/manifests/a")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/v2/{repo}/manifests/a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/v2/{repo}/manifests/b")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await _http.DeleteAsync($"/v2/{repo}/manifests/{digest}")).StatusCode);
        using var gone = await _http.GetAsync($"/v2/{repo}/manifests/b");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("MANIFEST_UNKNOWN", ErrorCode(await gone.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Bad_names_and_digests_get_spec_error_codes()
    {
        using var badName = await _http.GetAsync("/v2/UPPER/case/manifests/latest");
        Assert.Equal("NAME_INVALID", ErrorCode(await badName.Content.ReadAsStringAsync()));
        using var badDigest = await _http.GetAsync("/v2/some/repo/blobs/sha256:nothex");
        Assert.Equal("DIGEST_INVALID", ErrorCode(await badDigest.Content.ReadAsStringAsync()));
        using var unknownRepo = await _http.GetAsync("/v2/no/such/repo/tags/list");
        Assert.Equal("NAME_UNKNOWN", ErrorCode(await unknownRepo.Content.ReadAsStringAsync()));
        using var unknownBlob = await _http.GetAsync($"/v2/some/repo/blobs/{Digest.Compute("x"u8)}");
        Assert.Equal("BLOB_UNKNOWN", ErrorCode(await unknownBlob.Content.ReadAsStringAsync()));
    }
}
