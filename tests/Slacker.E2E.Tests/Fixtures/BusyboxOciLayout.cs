using System.IO.Compression;
using Slacker.Core.Api;
using Slacker.Images.Export;
using Slacker.Images.Oci;
using Slacker.Images.Sources;

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
        var layer = await LayerBlobWriter.WriteAsync(template, new TreeTarOptions(), OciLayoutWriter.BlobStore(directory), CompressionLevel.Fastest);
        var config = ImageConfigDocument.Serialize(new OciImageConfig
        {
            Architecture = PlatformSelector.CurrentArchitecture,
            Os = "linux",
            Config = new OciContainerConfig { Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd = ["sh"] },
            RootFs = new OciRootFs { DiffIds = [layer.DiffId.ToString()] },
        });
        OciLayoutWriter.Write(directory, tag, config, [new OciDescriptor { MediaType = MediaTypes.OciLayerTarGzip, Digest = layer.Digest.ToString(), Size = layer.Size }]);
        return $"oci:{directory}:{tag}";
    }
}
