using System.Runtime.CompilerServices;
using Slacker.Bench.Corpus;

namespace Slacker.Bench.Tests;

public sealed class CorpusFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-corpus-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Repository_Corpus_Has_Every_Image_Of_The_HelloBench_Table()
    {
        var corpus = CorpusFile.Load(RepoCorpusPath());

        var expected = new Dictionary<string, RunMode>
        {
            ["debian"] = RunMode.Echo, ["busybox"] = RunMode.Echo, ["python"] = RunMode.Arg, ["perl"] = RunMode.Arg,
            ["ruby"] = RunMode.Stdin, ["php"] = RunMode.Stdin, ["gcc"] = RunMode.Stdin, ["golang"] = RunMode.Stdin,
            ["java"] = RunMode.Stdin, ["r-base"] = RunMode.Stdin, ["postgres"] = RunMode.WaitLine, ["redis"] = RunMode.WaitLine,
            ["nginx"] = RunMode.Http, ["httpd"] = RunMode.Http, ["tomcat"] = RunMode.WaitLine, ["django"] = RunMode.Stdin,
            ["node"] = RunMode.Http, ["registry"] = RunMode.Http,
        };
        Assert.Equal(expected.Keys.Order(), corpus.Entries.Select(e => e.Name).Order());
        foreach (var entry in corpus.Entries)
        {
            Assert.Equal(expected[entry.Name], entry.Mode);
            Assert.NotNull(entry.AssetsDirectory);
            Assert.True(Directory.Exists(entry.AssetsDirectory), entry.AssetsDirectory);
        }

        Assert.Equal(BaseKind.Empty, corpus["busybox"].Base);
        Assert.Equal(["gcc", "libc6-dev"], corpus["gcc"].Packages);
        Assert.Equal("/src", Assert.Single(corpus["gcc"].Mounts).Target);
        Assert.Equal("database system is ready to accept connections", corpus["postgres"].Marker);
    }

    [Fact]
    public void Embedded_Default_Corpus_Is_The_Repository_Corpus()
    {
        var embedded = DefaultCorpus.Load(_dir);
        var checkout = CorpusFile.Load(RepoCorpusPath());

        Assert.Equal(checkout.Entries.Select(e => e.Name), embedded.Entries.Select(e => e.Name));
        Assert.Equal(File.ReadAllText(RepoCorpusPath()), File.ReadAllText(embedded.Source));
        foreach (var entry in embedded.Entries)
        {
            var original = checkout[entry.Name].AssetsDirectory!;
            foreach (var file in Directory.EnumerateFiles(original))
            {
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(entry.AssetsDirectory!, Path.GetFileName(file))));
            }
        }
    }

    [Theory]
    [InlineData("\"mode\": \"echo\"", "\"mode\": \"sing\"", "images[0] (hello): field 'mode' must be one of echo|arg|stdin|waitline|http, got 'sing'")]
    [InlineData("\"mode\": \"echo\"", "\"mode\": \"waitline\"", "images[0] (hello): field 'marker'")]
    [InlineData("\"mode\": \"echo\", \"command\": [\"echo\", \"hello\"], \"expect\": \"hello\", \"port\": 8080", "\"mode\": \"http\"", "images[0] (hello): field 'port' must name the TCP port")]
    [InlineData("\"port\": 8080", "\"port\": 70000", "images[0] (hello): field 'port' must be a TCP port 1-65535, got 70000")]
    [InlineData("\"name\": \"hello\"", "\"name\": \"Hello World\"", "images[0]: field 'name' must be a lower-case image name")]
    [InlineData("\"category\": \"distro\"", "\"category\": \"\"", "images[0] (hello): field 'category' is missing or empty")]
    [InlineData("\"command\": [\"echo\", \"hello\"]", "\"command\": []", "images[0] (hello): field 'command' must list the program")]
    [InlineData("\"packages\": [\"hello\"]", "\"packages\": [\"Bad Name\"]", "images[0] (hello): field 'packages' 'Bad Name' is not a Debian package name")]
    [InlineData("\"base\": \"minbase\"", "\"base\": \"empty\"", "images[0] (hello): field 'install' must be 'extract' when 'base' is 'empty'")]
    [InlineData("\"target\": \"/src\"", "\"target\": \"src\"", "images[0] (hello): field 'mounts[0].target' must be an absolute container path")]
    [InlineData("\"source\": \"assets\"", "\"source\": \"nowhere\"", "images[0] (hello): field 'mounts[0].source' names directory 'nowhere', which does not exist")]
    [InlineData("\"schema\": 1", "\"schema\": 2", "field 'schema' must be 1, got 2")]
    [InlineData("\"expect\": \"hello\"", "\"expect\": \"hello\", \"colour\": \"blue\"", "colour")]
    [InlineData("\"exposedPorts\": [\"8080/tcp\"]", "\"exposedPorts\": [\"8080\"]", "images[0] (hello): field 'config.exposedPorts' '8080' must look like '80/tcp'")]
    public void Bad_Entry_Is_Rejected_With_A_Message_Naming_The_Field(string original, string replacement, string expected)
    {
        var json = ValidCorpus();
        Assert.Contains(original, json, StringComparison.Ordinal);

        var ex = Assert.Throws<CorpusException>(() => CorpusFile.Parse(json.Replace(original, replacement, StringComparison.Ordinal), _dir, "test.json"));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("corpus test.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_Corpus_Parses_With_Paths_Relative_To_The_File()
    {
        var corpus = CorpusFile.Parse(ValidCorpus(), _dir, "test.json");

        var entry = Assert.Single(corpus.Entries);
        Assert.Equal(Path.Combine(_dir, "assets"), entry.AssetsDirectory);
        Assert.Equal(Path.Combine(_dir, "assets"), entry.Mounts[0].Source);
        Assert.Equal("/hello", entry.AssetsTarget);
        Assert.Equal(8080, entry.Port);
        Assert.Equal("bar", entry.Env["FOO"]);
        Assert.Equal(["8080/tcp"], entry.Config.ExposedPorts);
    }

    [Theory]
    [InlineData("\"probe\": \"redis\"", "\"probe\": \"smtp\"", "field 'parity.probe' must be one of tcp|redis|postgres|http, got 'smtp'")]
    [InlineData("\"metric\": \"GET: ([0-9.]+)\"", "\"metric\": \"GET: [0-9.]+\"", "field 'parity.metric' 'GET: [0-9.]+' needs one capture group")]
    [InlineData("\"client\": [\"redis-benchmark\"]", "\"client\": []", "field 'parity.client' must list")]
    [InlineData("\"port\": 8080", "\"port\": null", "field 'port' must name the server's TCP port when 'parity' is given")]
    public void Bad_Parity_Section_Is_Rejected_Naming_The_Field(string original, string replacement, string expected)
    {
        var json = ValidCorpus().Replace(
            "\"mounts\":",
            "\"parity\": { \"probe\": \"redis\", \"client\": [\"redis-benchmark\"], \"metric\": \"GET: ([0-9.]+)\", \"unit\": \"GET/s\" }, \"mounts\":",
            StringComparison.Ordinal);
        Assert.NotNull(CorpusFile.Parse(json, _dir, "test.json").Entries[0].Parity);

        var ex = Assert.Throws<CorpusException>(() => CorpusFile.Parse(json.Replace(original, replacement, StringComparison.Ordinal), _dir, "test.json"));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_Image_Names_Are_Rejected()
    {
        var one = ValidCorpus();
        var start = one.IndexOf('{', one.IndexOf("\"images\"", StringComparison.Ordinal));
        var end = one.LastIndexOf(']');
        var image = one[start..end].Trim();
        var two = one[..start] + image + ", " + image + one[end..];

        var ex = Assert.Throws<CorpusException>(() => CorpusFile.Parse(two, _dir, "test.json"));

        Assert.Contains("images[1] (hello): field 'name' repeats 'hello'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_File_Says_Where_It_Looked()
    {
        var ex = Assert.Throws<CorpusException>(() => CorpusFile.Load(Path.Combine(_dir, "absent.json")));

        Assert.Contains("absent.json does not exist", ex.Message, StringComparison.Ordinal);
    }

    private string ValidCorpus()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "assets"));
        return """
            {
              "schema": 1,
              "suite": "bookworm",
              "images": [
                {
                  "name": "hello", "category": "distro", "base": "minbase", "packages": ["hello"],
                  "assets": "assets",
                  "config": { "cmd": ["hello"], "exposedPorts": ["8080/tcp"] },
                  "mode": "echo", "command": ["echo", "hello"], "expect": "hello", "port": 8080,
                  "env": { "FOO": "bar" },
                  "mounts": [{ "source": "assets", "target": "/src" }]
                }
              ]
            }
            """;
    }

    internal static string RepoCorpusPath([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "bench", "corpus.json"));
}
