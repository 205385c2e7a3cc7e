using System.Net;
using System.Text;
using Slacker.Core.Api;
using Slacker.Images.Distribution;
using Slacker.Images.Import;
using Slacker.Images.Layers;
using Slacker.Images.Oci;
using Slacker.Images.Sources;

namespace Slacker.Images.Tests;

/// <summary>Pure parsing: manifests, configs, references and paths, each failure naming what was wrong.</summary>
public sealed class FormatParsingTests
{
    private const string Config = "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2}";

    [Theory]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.acme.thing+json\"," + Config + ",\"layers\":[]}", "Unknown manifest media type 'application/vnd.acme.thing+json'")]
    [InlineData("{\"schemaVersion\":1,\"name\":\"x\"}", "schema 1 is not supported")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}", "no 'config' descriptor")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," + Config + "}", "no 'layers' field")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," + Config + ",\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha512:abc\",\"size\":1}]}", "Only sha256 digests are supported")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," + Config + ",\"layers\":[{\"mediaType\":\"not a type\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":1}]}", "layers[0] has media type 'not a type'")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}", "no 'manifests' field")]
    [InlineData("[1,2]", "not a JSON object of that shape")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":7,\"layers\":[]}", "does not have the expected shape")]
    public void Malformed_manifests_are_refused_with_a_message_that_names_the_problem(string json, string expected)
    {
        var error = Assert.ThrowsAny<ImageFormatException>(() => ManifestDocument.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_without_media_type_is_recognised_by_its_shape_and_keeps_its_exact_bytes()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"schemaVersion\":2," + Config + ",\"layers\":[]}");
        var document = ManifestDocument.Parse(bytes);
        Assert.Equal(MediaTypes.OciManifest, document.MediaType);
        Assert.Equal(Core.Model.Digest.Compute(bytes), document.Digest);
    }

    [Theory]
    [InlineData("{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", "'architecture' or 'os'")]
    [InlineData("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"flat\",\"diff_ids\":[]}}", "rootfs type is 'flat'")]
    [InlineData("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:short\"]}}", "diff_ids[0]")]
    public void Malformed_configs_are_refused(string json, string expected)
    {
        var error = Assert.Throws<ImageFormatException>(() => ImageConfigDocument.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("docker-archive:/tmp/a.tar", ImageTransport.DockerArchive, "/tmp/a.tar", null)]
    [InlineData("docker-archive:/tmp/a.tar:app:1", ImageTransport.DockerArchive, "/tmp/a.tar", "app:1")]
    [InlineData("oci:/var/layout:v1", ImageTransport.OciLayout, "/var/layout", "v1")]
    [InlineData("docker://127.0.0.1:5000/team/app:1", ImageTransport.Registry, "127.0.0.1:5000/team/app:1", null)]
    public void Source_references_use_skopeo_transport_names(string text, ImageTransport transport, string path, string? reference)
    {
        var parsed = ImageSourceReference.Parse(text);
        Assert.Equal((transport, path, reference), (parsed.Transport, parsed.Path, parsed.Reference));
    }

    [Theory]
    [InlineData("127.0.0.1:5000/team/app:1", "127.0.0.1:5000", "team/app", "1", "http://127.0.0.1:5000/")]
    [InlineData("localhost:5000/app", "localhost:5000", "app", "latest", "http://localhost:5000/")]
    [InlineData("registry.example:5443/a/b:c", "registry.example:5443", "a/b", "c", "https://registry.example:5443/")]
    [InlineData("debian:12", "docker.io", "library/debian", "12", "https://registry-1.docker.io/")]
    public void Registry_references_follow_docker_rules(string text, string host, string repository, string tag, string baseUri)
    {
        var parsed = RegistryReference.Parse(text);
        Assert.Equal((host, repository, tag, baseUri), (parsed.Host, parsed.Repository, parsed.Tag!, parsed.BaseUri.ToString()));
    }

    [Theory]
    [InlineData("UPPER/case")]
    [InlineData("a//b")]
    [InlineData("app:-bad")]
    public void Bad_image_names_are_refused(string text) => Assert.Throws<FormatException>(() => ImageName.Parse(text));

    [Theory]
    [InlineData("a/./b//c/", "a/b/c")]
    [InlineData("./", "")]
    [InlineData("./etc/passwd", "etc/passwd")]
    public void Tar_paths_are_normalised(string name, string expected)
    {
        Assert.Null(TarPath.TryNormalize(name, out var normalized, out _));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("a/b", "../../x", true)]
    [InlineData("a/b", "../x", false)]
    [InlineData("a/b", "/etc", true)]
    [InlineData("link", "target", false)]
    public void Symlink_targets_that_leave_the_root_are_recognised(string link, string target, bool outside) =>
        Assert.Equal(outside, TarPath.LeadsOutside(link, target));

    [Fact]
    public void Bearer_challenges_are_parsed()
    {
        var challenge = BearerChallenge.TryParse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull\"");
        Assert.Equal(new BearerChallenge("https://auth.example/token", "registry.example", "repository:a/b:pull"), challenge);
        Assert.Null(BearerChallenge.TryParse("Basic realm=\"x\""));
    }

    [Fact]
    public async Task The_registry_client_fetches_an_anonymous_token_when_challenged_and_retries()
    {
        var handler = new TokenRegistry();
        using var client = new RegistryClient(new Uri("https://registry.example/"), handler);
        Assert.False(await client.BlobExistsAsync("team/app", Core.Model.Digest.Compute("x"u8)));
        Assert.Equal(["HEAD /v2/team/app/blobs", "GET /token?service=registry.example&scope=repository%3Ateam%2Fapp%3Apull", "HEAD /v2/team/app/blobs (Bearer t0k3n)"], handler.Requests);
    }

    /// <summary>A registry that wants a bearer token and the token service that hands one out anonymously.</summary>
    private sealed class TokenRegistry : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path == "/token")
            {
                Requests.Add($"GET {request.RequestUri.PathAndQuery}");
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"token\":\"t0k3n\"}") });
            }

            var authorized = request.Headers.Authorization is { Scheme: "Bearer", Parameter: "t0k3n" };
            Requests.Add($"{request.Method} {path[..path.LastIndexOf('/')]}" + (authorized ? " (Bearer t0k3n)" : ""));
            if (!authorized)
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.TryAddWithoutValidation("Www-Authenticate", "Bearer realm=\"https://registry.example/token\",service=\"registry.example\"");
                return Task.FromResult(challenge);
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }
}
