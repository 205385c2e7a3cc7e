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
        var times = new Option<int>("--times") { Description = "Pull N times in this process and print min/median/max (for measurements; the first pull pays .NET start-up).", DefaultValueFactory = _ => 1 };
        var command = new Command("pull", "Pull an image: O(1), only its manifest is read; blocks are fetched lazily when it runs.") { times, ImagesCommand.NodeData, name };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            var image = ImageName.Parse(parse.GetValue(name)!);
            var service = ImagesCommand.Service(parse);
            var elapsed = new List<double>();
            for (var i = 0; i < Math.Max(1, parse.GetValue(times)); i++)
            {
                var clock = Stopwatch.StartNew();
                var pulled = await service.PullAsync(image, ct);
                elapsed.Add(clock.Elapsed.TotalMilliseconds);
                if (i == 0)
                {
                    Console.WriteLine($"{image}: {pulled.Image.Manifest.Digest} (snapshot {pulled.Image.Snapshot}, {ImagesCommand.Size(pulled.Image.Layer.Size)}) pulled in {elapsed[0]:0} ms");
                }
            }

            if (elapsed.Count > 1)
            {
                var warm = elapsed.Skip(1).Order().ToList();
                Console.WriteLine($"{warm.Count} further pulls: min {warm[0]:0.0} ms, median {warm[warm.Count / 2]:0.0} ms, max {warm[^1]:0.0} ms");
            }

            return 0;
        }));
        return command;
    }
}
