using System.Globalization;

namespace Slacker.Server.Storage.S3;

/// <summary>
/// Where a cluster's objects live: <c>s3://bucket?endpoint=http://host:7480&amp;region=us-east-1</c>. Keys come from
/// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the config file), never from the URI, so that it can be logged.
/// </summary>
public sealed record S3Location(string Bucket, Uri Endpoint, string Region, string Prefix)
{
    public const string DefaultRegion = "us-east-1";

    public static bool IsS3(string text) => text.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    public static S3Location Parse(string text)
    {
        if (!IsS3(text) || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"--chunks '{text}' is not an S3 location: write s3://BUCKET?endpoint=http://HOST:PORT (and &region=..., &prefix=...).");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new ArgumentException("--chunks must not carry keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put them in the --config file.");
        }

        var query = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            query[key] = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
        }

        foreach (var key in query.Keys)
        {
            if (key is not ("endpoint" or "region" or "prefix"))
            {
                throw new ArgumentException($"--chunks '{text}': unknown parameter '{key}' (known: endpoint, region, prefix).");
            }
        }

        if (!query.TryGetValue("endpoint", out var endpointText) || !Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint)
            || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--chunks '{text}' needs ?endpoint=http://HOST:PORT or https://HOST: the S3 service to use.");
        }

        var prefix = query.GetValueOrDefault("prefix", "").Trim('/');
        var bucket = uri.Host.ToLower(CultureInfo.InvariantCulture);
        return new S3Location(bucket, endpoint, query.GetValueOrDefault("region", DefaultRegion), prefix.Length == 0 ? "" : prefix + "/");
    }

    public override string ToString() => $"s3://{Bucket}/{Prefix} at {Endpoint.GetLeftPart(UriPartial.Authority)}";
}
