using System.CommandLine;
using Slacker.Images.Export;
using Slacker.Images.Import;
using Slacker.Images.Sources;

namespace Slacker.Cli.Commands;

/// <summary>`slacker export NAME[:TAG] docker-archive:PATH|oci:PATH[:REF]`: a Slacker image back to a standard one-layer image.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "NAME[:TAG] of a Slacker image." };
        var destination = new Argument<string>("destination") { Description = "docker-archive:PATH (for docker load) or oci:PATH[:REF]." };
        var command = new Command("export", "Write a Slacker image as a standard image that docker load (or any OCI tool) accepts.") { ImagesCommand.NodeData, name, destination };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            var image = ImageName.Parse(parse.GetValue(name)!);
            var target = ImageSourceReference.Parse(parse.GetValue(destination)!);
            if (target.Transport == ImageTransport.Registry)
            {
                throw new ArgumentException("export writes files: use docker-archive:PATH or oci:PATH[:REF] (then skopeo or docker push it).");
            }

            var service = ImagesCommand.Service(parse);
            var resolved = await service.ResolveAsync(image, ct);
            var blocks = service.BlocksFor(resolved.Image.Layer, out var http);
            using (http)
            {
                var format = target.Transport == ImageTransport.DockerArchive ? ExportFormat.DockerArchive : ExportFormat.OciLayout;
                var tag = target.Reference ?? (format == ExportFormat.DockerArchive ? $"{image.Repository}:{image.Tag}" : image.Tag);
                var work = Environment.GetEnvironmentVariable("SLACKER_TMPDIR") is { Length: > 0 } dir ? dir : "/var/tmp";
                await ImageExporter.ExportAsync(blocks, resolved.Image, tag, format, target.Path, work, ct);
            }

            Console.WriteLine($"Exported {image} to {target}");
            return 0;
        }));
        return command;
    }
}
