using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Slacker.E2E.Tests.Fixtures;

/// <summary>
/// The busybox root as a standard OCI image layout (one gzip layer, config with Cmd ["sh"]), so that tests put
/// it on the server through the real import path: `slacker import oci:DIR:TAG NAME`.
/// </summary>
public static class BusyboxOciLayout
{
    public static async Task<string> WriteAsync(string directory, string tag)
    {
        var template = await BusyboxRootfs.TemplateAsync();
        var blobs = Path.Join(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);

        var tar = new MemoryStream();
        await TarFile.CreateFromDirectoryAsync(template, tar, includeBaseDirectory: false);
        var diffId = Convert.ToHexStringLower(SHA256.HashData(tar.ToArray()));
        var gz = new MemoryStream();
        await using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            tar.Position = 0;
            await tar.CopyToAsync(gzip);
        }

        var layer = await WriteBlobAsync(blobs, gz.ToArray());
        var config = await WriteBlobAsync(blobs, Encoding.UTF8.GetBytes(
            $$$"""{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:{{{diffId}}}"]}}"""));
        var manifest = await WriteBlobAsync(blobs, Encoding.UTF8.GetBytes(
            $$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{config.Digest}}}","size":{{{config.Size}}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{{layer.Digest}}}","size":{{{layer.Size}}}}]}"""));
        await File.WriteAllTextAsync(Path.Join(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        await File.WriteAllTextAsync(Path.Join(directory, "index.json"),
            $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifest.Digest}}}","size":{{{manifest.Size}}},"annotations":{"org.opencontainers.image.ref.name":"{{{tag}}}"}}]}""");
        return $"oci:{directory}:{tag}";
    }

    private static async Task<(string Digest, long Size)> WriteBlobAsync(string blobs, byte[] bytes)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        await File.WriteAllBytesAsync(Path.Join(blobs, hex), bytes);
        return ("sha256:" + hex, bytes.Length);
    }
}
