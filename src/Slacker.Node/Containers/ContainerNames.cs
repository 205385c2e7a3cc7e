using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Slacker.Node.Containers;

/// <summary>Container names: docker's rules, and a readable generated name when the user gives none.</summary>
public static partial class ContainerNames
{
    private static readonly string[] Adjectives =
        ["brave", "calm", "eager", "fond", "keen", "lazy", "lucid", "merry", "nimble", "quiet", "swift", "tidy", "vivid", "witty", "zen"];

    private static readonly string[] Nouns =
        ["harter", "salmon", "vaidya", "arpaci", "dusseau", "lovelace", "turing", "hopper", "ritchie", "thompson", "liskov", "knuth", "dijkstra", "lamport"];

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")]
    private static partial Regex ValidName();

    public static bool IsValid(string name) => ValidName().IsMatch(name);

    public static string Generate() =>
        $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}_{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}";
}
