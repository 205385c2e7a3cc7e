using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Slacker.Server.Storage.S3;

/// <summary>An object listed in a bucket.</summary>
public readonly record struct S3Entry(string Key, long Size, DateTimeOffset LastModified);

/// <summary>
/// One bucket of an S3-compatible service (Ceph RGW, MinIO, AWS) with the few calls the chunk store and the
/// upload staging need, and errors that say which service failed and how.
/// </summary>
public sealed class S3Bucket : IDisposable
{
    /// <summary>PutObject takes at most 5 GiB; larger objects go up in parts of this size.</summary>
    private const long PartSize = 64L << 20;

    private readonly AmazonS3Client _client;

    public S3Bucket(S3Location location, S3Credentials credentials, int maxConnections = 64)
    {
        Location = location;
        var config = new AmazonS3Config
        {
            ServiceURL = location.Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = location.Region,
            MaxErrorRetry = 4,
            Timeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = maxConnections,
            // Ceph RGW and many other S3 services reject the checksum trailers that the SDK adds by default.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(credentials.AccessKey, credentials.SecretKey), config);
    }

    public S3Location Location { get; }

    public string Name => Location.Bucket;

    /// <summary>Checks that the bucket is reachable and creates it if missing.</summary>
    public async Task EnsureExistsAsync(bool create, CancellationToken ct)
    {
        try
        {
            await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Name, MaxKeys = 1 }, ct);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket" && create)
        {
            await Wrap(() => _client.PutBucketAsync(new PutBucketRequest { BucketName = Name }, ct), "create the bucket");
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            throw Failure(e, "reach the bucket");
        }
    }

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct) =>
        Wrap(async () =>
        {
            using var body = AsStream(data);
            await _client.PutObjectAsync(new PutObjectRequest { BucketName = Name, Key = key, InputStream = body, AutoCloseStream = false, UseChunkEncoding = false }, ct);
        }, $"store {key}");

    /// <summary>Uploads a seekable stream of any size: one PUT up to <see cref="PartSize"/>, a multipart upload above.</summary>
    public async Task PutStreamAsync(string key, Stream content, CancellationToken ct)
    {
        var length = content.Length - content.Position;
        if (length <= PartSize)
        {
            await Wrap(() => _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Name, Key = key, InputStream = content, AutoCloseStream = false, UseChunkEncoding = false,
            }, ct), $"store {key}");
            return;
        }

        var upload = await Wrap(() => _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Name, Key = key }, ct), $"start the upload of {key}");
        try
        {
            var parts = new List<PartETag>();
            for (var part = 1; content.Position < content.Length; part++)
            {
                var size = Math.Min(PartSize, content.Length - content.Position);
                var start = content.Position;
                var response = await Wrap(() => _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Name, Key = key, UploadId = upload.UploadId, PartNumber = part, InputStream = content, PartSize = size,
                    UseChunkEncoding = false,
                }, ct), $"store part {part} of {key}");
                content.Position = start + size;
                parts.Add(new PartETag(part, response.ETag));
            }

            await Wrap(() => _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Name, Key = key, UploadId = upload.UploadId, PartETags = parts,
            }, ct), $"complete the upload of {key}");
        }
        catch
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Name, Key = key, UploadId = upload.UploadId }, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Opens an object for reading; null if it does not exist. The caller disposes the response.</summary>
    public async Task<GetObjectResponse?> GetAsync(string key, CancellationToken ct)
    {
        try
        {
            return await _client.GetObjectAsync(new GetObjectRequest { BucketName = Name, Key = key }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            throw Failure(e, $"read {key}");
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct) =>
        Wrap(() => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Name, Key = key }, ct), $"delete {key}");

    /// <summary>Every object under <paramref name="prefix"/> in key order (S3 lists in UTF-8 byte order).</summary>
    public async IAsyncEnumerable<S3Entry> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        string? token = null;
        do
        {
            var request = new ListObjectsV2Request { BucketName = Name, Prefix = prefix, ContinuationToken = token, MaxKeys = 1000 };
            var page = await Wrap(() => _client.ListObjectsV2Async(request, ct), $"list {prefix}");
            foreach (var o in page.S3Objects ?? [])
            {
                yield return new S3Entry(o.Key, o.Size ?? 0, new DateTimeOffset(o.LastModified ?? DateTime.UnixEpoch, TimeSpan.Zero));
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    public void Dispose() => _client.Dispose();

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    private async Task Wrap(Func<Task> call, string what)
    {
        try
        {
            await call();
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            throw Failure(e, what);
        }
    }

    private async Task<T> Wrap<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            throw Failure(e, what);
        }
    }

    private S3UnavailableException Failure(Exception e, string what)
    {
        var detail = e is AmazonS3Exception s3 ? $"{(int)s3.StatusCode} {s3.ErrorCode}: {s3.Message}" : e.Message;
        var hint = e is AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden }
            ? "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            : "check that the S3 service runs and that --chunks names it";
        return new S3UnavailableException($"S3 {Location} could not {what} ({detail}): {hint}.", e);
    }
}

/// <summary>The object service failed or refused a call; the server answers 503 so that clients retry or fail over.</summary>
public sealed class S3UnavailableException(string message, Exception inner) : IOException(message, inner);
