using System.CommandLine;
using System.Text;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Images.Import;

namespace Slacker.Cli.Commands;

/// <summary>`slacker inspect NAME...`: an image's manifest digest, snapshot, geometry and config, as JSON.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("name") { Description = "Images to show.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("inspect", "Show images as JSON (containers: 'slacker container inspect').") { ImagesCommand.NodeData, names };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(async () =>
        {
            var service = ImagesCommand.Service(parse);
            var output = new MemoryStream();
            await using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartArray();
                foreach (var text in parse.GetValue(names)!)
                {
                    var resolved = await service.ResolveAsync(ImageName.Parse(text), ct);
                    var image = resolved.Image;
                    json.WriteStartObject();
                    json.WriteString("Name", resolved.Name.ToString());
                    json.WriteString("Id", image.Manifest.Digest.ToString());
                    json.WriteString("Origin", resolved.Origin);
                    json.WritePropertyName("Layer");
                    JsonSerializer.Serialize(json, image.Layer, CoreJsonContext.Default.SlackerImageLayer);
                    json.WritePropertyName("Config");
                    using (var config = JsonDocument.Parse(image.ConfigBytes))
                    {
                        config.RootElement.WriteTo(json);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            Console.WriteLine(Encoding.UTF8.GetString(output.ToArray()));
            return 0;
        }));
        return command;
    }
}
