namespace Slacker.E2E.Tests.Fixtures;

/// <summary>
/// A tiny real root file system: Debian's busybox-static with a link per applet, plus /etc/passwd and /etc/group
/// with a non-root user. Built once per machine under /var/cache/slacker/e2e from the host's apt configuration.
/// </summary>
public static class BusyboxRootfs
{
    public const string CacheDir = "/var/cache/slacker/e2e";

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Returns a directory holding the template root (never write into it; copy it).</summary>
    public static async Task<string> TemplateAsync()
    {
        var template = Path.Join(CacheDir, "busybox-rootfs");
        await Gate.WaitAsync();
        try
        {
            if (File.Exists(Path.Join(template, ".complete")))
            {
                return template;
            }

            Directory.CreateDirectory(CacheDir);
            var download = Path.Join(CacheDir, "deb");
            Directory.CreateDirectory(download);
            if (!Directory.EnumerateFiles(download, "busybox-static_*.deb").Any())
            {
                if ((await Run("apt-get", download, "download", "busybox-static")).ExitCode != 0)
                {
                    await Run("apt-get", download, "update");
                    var retry = await Run("apt-get", download, "download", "busybox-static");
                    if (retry.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"apt-get download busybox-static failed: {retry.Output}");
                    }
                }
            }

            var deb = Directory.EnumerateFiles(download, "busybox-static_*.deb").First();
            if (Directory.Exists(template))
            {
                Directory.Delete(template, recursive: true);
            }

            var extracted = Path.Join(CacheDir, "extract");
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }

            Check(await Run("dpkg", CacheDir, "-x", deb, extracted));
            foreach (var dir in new[] { "bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev", "var/www" })
            {
                Directory.CreateDirectory(Path.Join(template, dir));
            }

            File.Copy(Path.Join(extracted, "bin/busybox"), Path.Join(template, "bin/busybox"));
            var applets = await Run(Path.Join(template, "bin/busybox"), CacheDir, "--list");
            Check(applets);
            foreach (var applet in applets.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (applet != "busybox")
                {
                    File.CreateSymbolicLink(Path.Join(template, "bin", applet), "busybox");
                }
            }

            await File.WriteAllTextAsync(Path.Join(template, "etc/passwd"),
                "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
            await File.WriteAllTextAsync(Path.Join(template, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n");
            await File.WriteAllTextAsync(Path.Join(template, "var/www/index.html"), "hello from slacker\n");
            Check(await Run("chown", CacheDir, "1000:1000", Path.Join(template, "home/app")));
            Directory.Delete(extracted, recursive: true);
            await File.WriteAllTextAsync(Path.Join(template, ".complete"), "");
            return template;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task CopyAsync(string template, string destination)
    {
        Directory.CreateDirectory(destination);
        Check(await Run("cp", "/", "-a", template + "/.", destination));
        File.Delete(Path.Join(destination, ".complete"));
    }

    private static void Check((int ExitCode, string Output) result)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(result.Output);
        }
    }

    private static async Task<(int ExitCode, string Output)> Run(string file, string workingDirectory, params string[] args)
    {
        var (exitCode, stdout, stderr) = await Tool.RunInAsync(workingDirectory, file, null, args);
        return (exitCode, stdout + stderr);
    }
}
