using System.Collections.Concurrent;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quilt.Core;
using static Quilt.Storage.S3.S3ObjectNames;

namespace Quilt.Storage.S3;

/// <summary>
/// <see cref="IObjectStore"/> on S3 or any S3-compatible endpoint. Large uploads go in parallel parts with bounded
/// memory (about <see cref="S3StoreOptions.PartSize"/> × <see cref="S3StoreOptions.Concurrency"/>); reads stream.
/// </summary>
public sealed partial class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly S3StoreOptions _options;
    private readonly ILogger _logger;
    private readonly bool _ownsClient;
    private readonly ConcurrentDictionary<string, bool> _versioned = new(StringComparer.Ordinal);
    private readonly MultipartJournal? _journal;

    /// <summary>
    /// A store with its own client: the AWS SDK's credential chain (or <see cref="S3StoreOptions.Profile"/>), the
    /// endpoint from the options or AWS_ENDPOINT_URL_S3, path-style addressing when asked or when an endpoint is set.
    /// </summary>
    public S3ObjectStore(S3StoreOptions options, ILogger<S3ObjectStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Client = CreateClient(options);
        _ownsClient = true;
        _journal = StartJournal(options);
    }

    /// <summary>A store over a client configured elsewhere (the options' endpoint, region and profile are not used).</summary>
    public S3ObjectStore(IAmazonS3 client, S3StoreOptions options, ILogger<S3ObjectStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Client = client;
        _journal = StartJournal(options);
    }

    /// <summary>The underlying client, for tools and tests that need raw S3 calls.</summary>
    public IAmazonS3 Client { get; }

    public string Scheme => "s3";

    private string? Endpoint => Client.Config.ServiceURL;

    public void Dispose()
    {
        if (_ownsClient)
            Client.Dispose();
    }

    private static AmazonS3Client CreateClient(S3StoreOptions options)
    {
        if (options.Profile is not { Length: > 0 } profileName)
            return S3Clients.Create(options.EndpointUrl, options.Region, options.ForcePathStyle, null);
        var (credentials, profileRegion) = S3Clients.FromProfile(profileName);
        return S3Clients.Create(options.EndpointUrl, options.Region ?? profileRegion, options.ForcePathStyle, credentials);
    }

    public async Task<bool> IsVersionedAsync(string bucket, CancellationToken cancellationToken = default)
    {
        CheckBucket(bucket);
        if (_versioned.TryGetValue(bucket, out var cached))
            return cached;
        var response = await Call("read the versioning of", bucket, null,
            () => Client.GetBucketVersioningAsync(new GetBucketVersioningRequest { BucketName = bucket }, cancellationToken));
        // "Suspended" keeps old versions but writes new ones without ids, so it counts as unversioned.
        var versioned = response.VersioningConfig?.Status == VersionStatus.Enabled;
        _versioned[bucket] = versioned;
        return versioned;
    }

    public async Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default)
    {
        var buckets = new List<BucketInfo>();
        string? token = null;
        do
        {
            var response = await Call("list the buckets of", "*", null,
                () => Client.ListBucketsAsync(new ListBucketsRequest { ContinuationToken = token }, cancellationToken));
            foreach (var b in response.Buckets ?? [])
                buckets.Add(new BucketInfo(b.BucketName, b.CreationDate is { } created ? ToOffset(created) : null));
            token = string.IsNullOrEmpty(response.ContinuationToken) ? null : response.ContinuationToken;
        }
        while (token is not null);
        return buckets;
    }

    public async Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckBucket(request.Bucket);
        if (request.PageSize < 1)
            throw new ArgumentOutOfRangeException(nameof(request), request.PageSize, "The page size must be at least 1.");
        if (request.WithVersionIds)
            return await ListCurrentVersionsAsync(request, cancellationToken);
        var response = await Call("list", request.Bucket, null, () => Client.ListObjectsV2Async(new ListObjectsV2Request
        {
            BucketName = request.Bucket,
            Prefix = string.IsNullOrEmpty(request.Prefix) ? null : request.Prefix,
            Delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : request.Delimiter,
            MaxKeys = Math.Min(request.PageSize, 1000),
            ContinuationToken = string.IsNullOrEmpty(request.ContinuationToken) ? null : request.ContinuationToken,
        }, cancellationToken));

        var objects = (response.S3Objects ?? [])
            .Select(o => new ObjectSummary(o.Key, o.Size ?? 0, ToOffset(o.LastModified), Unquote(o.ETag)))
            .ToList();
        var prefixes = response.CommonPrefixes ?? [];
        var next = response.IsTruncated == true && !string.IsNullOrEmpty(response.NextContinuationToken)
            ? response.NextContinuationToken
            : null;
        return new ObjectListing(objects, prefixes, next);
    }

    /// <summary>
    /// A listing of object versions, keeping each key's current one (not a delete marker): sizes and version ids in pages of
    /// up to 1,000 versions. The continuation token carries both markers S3 pages versions by.
    /// </summary>
    private async Task<ObjectListing> ListCurrentVersionsAsync(ListRequest request, CancellationToken cancellationToken)
    {
        string? keyMarker = null, versionMarker = null;
        if (!string.IsNullOrEmpty(request.ContinuationToken))
        {
            var split = request.ContinuationToken.Split('\n', 2);
            (keyMarker, versionMarker) = (split[0], split.Length > 1 && split[1].Length > 0 ? split[1] : null);
        }
        var response = await Call("list", request.Bucket, null, () => Client.ListVersionsAsync(new ListVersionsRequest
        {
            BucketName = request.Bucket,
            Prefix = string.IsNullOrEmpty(request.Prefix) ? null : request.Prefix,
            Delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : request.Delimiter,
            MaxKeys = Math.Min(request.PageSize, 1000),
            KeyMarker = keyMarker,
            VersionIdMarker = versionMarker,
        }, cancellationToken));
        var objects = (response.Versions ?? [])
            .Where(v => v.IsLatest == true && v.IsDeleteMarker != true)
            .Select(v => new ObjectSummary(v.Key, v.Size ?? 0, ToOffset(v.LastModified), Unquote(v.ETag)) { VersionId = NullIfEmpty(v.VersionId) })
            .ToList();
        var next = response.IsTruncated == true && !string.IsNullOrEmpty(response.NextKeyMarker)
            ? response.NextKeyMarker + "\n" + response.NextVersionIdMarker
            : null;
        return new ObjectListing(objects, response.CommonPrefixes ?? [], next);
    }

    public async Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        CheckRef(obj);
        var response = await HeadOrNullAsync(obj, cancellationToken);
        if (response is null)
        {
            // A HEAD's 404 has no body, so it does not say whether the key or the whole bucket is missing.
            await EnsureBucketExistsAsync(obj.Bucket, cancellationToken);
            throw new ObjectNotFoundException(obj);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in response.Metadata.Keys)
            metadata[StripMetaPrefix(name)] = S3Metadata.Decode(response.Metadata[name]);
        return new ObjectInfo(
            obj.Bucket,
            obj.Key,
            response.ContentLength,
            ToOffset(response.LastModified),
            Unquote(response.ETag),
            NullIfEmpty(response.VersionId),
            NullIfEmpty(response.Headers.ContentType),
            metadata);
    }

    public async Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        CheckRef(obj);
        var request = new GetObjectRequest { BucketName = obj.Bucket, Key = obj.Key, VersionId = NullIfEmpty(obj.VersionId) };
        if (range is { } r)
        {
            if (r.Offset < 0 || r.Length < 0)
                throw new ArgumentOutOfRangeException(nameof(range), r, "A byte range needs a non-negative offset and length.");
            if (r.Length == 0)
            {
                await HeadAsync(obj, cancellationToken);
                return new MemoryStream([], writable: false);
            }
            request.ByteRange = r.Length is { } length
                ? new Amazon.S3.Model.ByteRange(r.Offset, r.Offset + length - 1)
                : new Amazon.S3.Model.ByteRange($"bytes={r.Offset}-");
        }

        GetObjectResponse response;
        try
        {
            response = await Client.GetObjectAsync(request, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The range starts at or past the end (or the object is empty): like reading a file at its end.
            return new MemoryStream([], writable: false);
        }
        catch (Exception ex) when (S3Errors.Map(ex, "read", obj.Bucket, obj, Endpoint) is { } mapped)
        {
            throw mapped;
        }
        return new S3ReadStream(response, response.ContentLength);
    }

    public async Task<PutResult> CopyAsync(ObjectRef source, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default)
    {
        CheckRef(source);
        CheckBucket(destinationBucket);
        CheckKey(destinationKey);
        var info = await HeadAsync(source, cancellationToken);
        var destination = new ObjectRef(destinationBucket, destinationKey);
        if (info.Size > _options.MultipartCopyThreshold)
            return await CopyMultipartAsync(source, info, destination, cancellationToken);

        var response = await Call("copy to", destinationBucket, destination, () => Client.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = source.Bucket,
            SourceKey = source.Key,
            SourceVersionId = NullIfEmpty(source.VersionId),
            DestinationBucket = destinationBucket,
            DestinationKey = destinationKey,
            MetadataDirective = S3MetadataDirective.COPY,
        }, cancellationToken));
        return await WrittenAsync(destination, info.Size, response.ETag, response.VersionId, cancellationToken);
    }

    public async Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        CheckRef(obj);
        await Call("delete", obj.Bucket, obj, () => Client.DeleteObjectAsync(new DeleteObjectRequest
        {
            BucketName = obj.Bucket,
            Key = obj.Key,
            VersionId = NullIfEmpty(obj.VersionId),
        }, cancellationToken));
    }

    public async Task<Uri> GetDownloadUrlAsync(ObjectRef obj, TimeSpan expiresIn, CancellationToken cancellationToken = default)
    {
        CheckRef(obj);
        if (expiresIn <= TimeSpan.Zero || expiresIn > TimeSpan.FromDays(7))
            throw new ArgumentOutOfRangeException(nameof(expiresIn), expiresIn, "A presigned URL must expire within 7 days (SigV4's limit) and after now.");
        // A link to nothing is no help: say so now rather than when it is opened.
        await HeadAsync(obj, cancellationToken);
        var request = new GetPreSignedUrlRequest
        {
            BucketName = obj.Bucket,
            Key = obj.Key,
            VersionId = NullIfEmpty(obj.VersionId),
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow + expiresIn,
            // The SDK presigns https unless told otherwise, even for an http endpoint.
            Protocol = Endpoint is { } e && e.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS,
        };
        var url = await Call("presign", obj.Bucket, obj, () => Client.GetPreSignedURLAsync(request));
        return new Uri(url);
    }

    public string ToPhysicalKey(ObjectRef obj)
    {
        CheckRef(obj);
        return PhysicalKey.S3(obj.Bucket, obj.Key, obj.VersionId).ToString();
    }

    public ObjectRef? FromPhysicalKey(string physicalKey) => S3ObjectNames.FromPhysicalKey(physicalKey);

    /// <summary>The object's metadata, or null when HEAD says 404 (a missing key or a missing bucket).</summary>
    private async Task<GetObjectMetadataResponse?> HeadOrNullAsync(ObjectRef obj, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest
            {
                BucketName = obj.Bucket,
                Key = obj.Key,
                VersionId = NullIfEmpty(obj.VersionId),
            }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.BadRequest && obj.VersionId is not null)
        {
            // S3 answers 400 to a HEAD of a version id that is not of this key (or not a version id at all).
            return null;
        }
        catch (Exception ex) when (S3Errors.Map(ex, "read", obj.Bucket, obj, Endpoint) is { } mapped)
        {
            throw mapped;
        }
    }

    private async Task EnsureBucketExistsAsync(string bucket, CancellationToken cancellationToken) =>
        await Call("find", bucket, null, () => Client.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }, cancellationToken));

    /// <summary>Runs one SDK call, turning its failures into storage exceptions.</summary>
    private async Task<T> Call<T>(string operation, string bucket, ObjectRef? obj, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (S3Errors.Map(ex, operation, bucket, obj, Endpoint) is { } mapped)
        {
            throw mapped;
        }
    }

    private static string StripMetaPrefix(string name) =>
        name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name;

    private static string? Unquote(string? etag) => string.IsNullOrEmpty(etag) ? null : etag.Trim('"');

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTimeOffset ToOffset(DateTime? value) => value is { } v
        ? new DateTimeOffset(v.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : v.ToUniversalTime())
        : DateTimeOffset.MinValue;
}
