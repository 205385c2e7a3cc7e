namespace Slacker.Server.Storage.S3;

public sealed record S3Credentials(string AccessKey, string SecretKey)
{
    public static S3Credentials FromEnvironment() =>
        Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } access
        && Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret
            ? new S3Credentials(access, secret)
            : throw new ArgumentException("S3 chunks need keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or s3AccessKey and s3SecretKey in the --config file.");

    public override string ToString() => $"S3Credentials({AccessKey}, ***)";
}
