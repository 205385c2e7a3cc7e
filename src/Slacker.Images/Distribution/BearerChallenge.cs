namespace Slacker.Images.Distribution;

/// <summary>A parsed <c>Www-Authenticate: Bearer realm="...",service="...",scope="..."</c> challenge.</summary>
public sealed record BearerChallenge(string Realm, string? Service, string? Scope)
{
    public static BearerChallenge? TryParse(string? header)
    {
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = header.AsSpan("Bearer ".Length);
        while (!text.IsEmpty)
        {
            text = text.TrimStart(" ,");
            var eq = text.IndexOf('=');
            if (eq <= 0)
            {
                break;
            }

            var key = text[..eq].Trim().ToString();
            text = text[(eq + 1)..];
            string value;
            if (text.StartsWith("\""))
            {
                var end = text[1..].IndexOf('"');
                if (end < 0)
                {
                    break;
                }

                value = text.Slice(1, end).ToString();
                text = text[(end + 2)..];
            }
            else
            {
                var end = text.IndexOf(',');
                value = (end < 0 ? text : text[..end]).Trim().ToString();
                text = end < 0 ? default : text[end..];
            }

            values[key] = value;
        }

        return values.TryGetValue("realm", out var realm)
            ? new BearerChallenge(realm, values.GetValueOrDefault("service"), values.GetValueOrDefault("scope"))
            : null;
    }
}
