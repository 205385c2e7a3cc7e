using System.Text.Json;

namespace Slacker.Node.Containers;

/// <summary>
/// What an OCI image config says about how to run it (the "config" object of the image config document).
/// Parsed leniently: a config may omit any of these, and unknown fields are ignored.
/// </summary>
public sealed record ImageRunConfig(
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    IReadOnlyList<string> Env,
    string WorkingDir,
    string User)
{
    public static ImageRunConfig Empty { get; } = new([], [], [], "", "");

    /// <summary>Reads the runtime part of an OCI image config document (application/vnd.oci.image.config.v1+json).</summary>
    public static ImageRunConfig Parse(ReadOnlySpan<byte> imageConfigJson)
    {
        var reader = new Utf8JsonReader(imageConfigJson);
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The image config is not a JSON object; re-import the image.");
        }

        if (!document.RootElement.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
        {
            return Empty;
        }

        return new ImageRunConfig(
            Strings(config, "Entrypoint"),
            Strings(config, "Cmd"),
            Strings(config, "Env"),
            Text(config, "WorkingDir"),
            Text(config, "User"));
    }

    private static string Text(JsonElement config, string name) =>
        config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static string[] Strings(JsonElement config, string name)
    {
        if (!config.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var result = new string[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            result[i++] = item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw new FormatException($"The image config's {name} holds a non-string element; re-import the image.");
        }

        return result;
    }
}
