using Slacker.Bench.Processes;
using Slacker.Images.Tests.Support;

namespace Slacker.Images.Tests;

/// <summary>podman, with storage of its own, pushes to and pulls from the server's registry.</summary>
public sealed class PodmanInteropTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string? _tmp;

    /// <summary>podman with TMPDIR inside the test's directory, so its temporary blob copies go away with it.</summary>
    private async Task<string> Podman(string[] arguments)
    {
        var (code, stdout, stderr) = await Tool.RunRawAsync("podman", new Dictionary<string, string> { ["TMPDIR"] = _tmp! }, arguments);
        return code == 0 ? stdout : throw new InvalidOperationException($"podman {string.Join(' ', arguments)} failed ({code}): {stderr}{stdout}");
    }

    [Fact]
    public async Task Podman_pushes_to_and_pulls_from_the_server()
    {
        using var work = Scratch.Dir("podman");
        _tmp = Path.Combine(work.Path, "tmp");
        Directory.CreateDirectory(_tmp);
        var archive = SampleImages.MultiLayer().WriteDockerArchive(Path.Combine(work.Path, "sample.tar"), "localhost/sample:podman");
        // podman refuses a runroot longer than 50 characters.
        var runRoot = $"/run/slk-pod-{Guid.NewGuid():N}"[..21];
        string[] podman = ["--root", Path.Combine(work.Path, "root"), "--runroot", runRoot, "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs", "--events-backend", "none", "--tmpdir", Path.Combine(work.Path, "tmp")];
        var remote = $"{server.Registry}/podman/sample:1";
        try
        {
            await Podman([.. podman, "load", "-i", archive]);
            await Podman([.. podman, "push", "--tls-verify=false", "localhost/sample:podman", "docker://" + remote]);
            var id = (await Podman([.. podman, "image", "inspect", "--format", "{{.Id}}", "localhost/sample:podman"])).Trim();
            await Podman([.. podman, "rmi", "-a", "-f"]);
            await Podman([.. podman, "pull", "--tls-verify=false", remote]);
            Assert.Equal(id, (await Podman([.. podman, "image", "inspect", "--format", "{{.Id}}", remote])).Trim());
        }
        finally
        {
            await Tool.RunRawAsync("podman", null, [.. podman, "rmi", "-a", "-f"]);
            // vfs storage may leave its own mounts (shm, overlay for layers) under our root; they are ours.
            MountCleanup.UnmountBelow(work.Path);
            MountCleanup.UnmountBelow(runRoot);

            if (Directory.Exists(runRoot))
            {
                Directory.Delete(runRoot, recursive: true);
            }
        }
    }
}
