using System.CommandLine;
using System.Diagnostics;
using Slacker.Images.Import;

namespace Slacker.Cli.Commands;

/// <summary>`slacker pull NAME[:TAG]`: reads the manifest, checks the snapshot exists, records the image. No chunk moves.</summary>
public static class PullCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "NAME[:TAG] (default server) or HOST[:PORT]/REPO[:TAG]." };
        var command = new Command("pull", "Pull an image: O(1), only its manifest is read; blocks are fetched lazily when it runs.") { ImagesCommand.NodeData, name };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            var image = ImageName.Parse(parse.GetValue(name)!);
            var clock = Stopwatch.StartNew();
            var pulled = await ImagesCommand.Service(parse).PullAsync(image, ct);
            Console.WriteLine($"{image}: {pulled.Image.Manifest.Digest} (snapshot {pulled.Image.Snapshot}, {ImagesCommand.Size(pulled.Image.Layer.Size)}) pulled in {clock.Elapsed.TotalMilliseconds:0} ms");
            return 0;
        }));
        return command;
    }
}
