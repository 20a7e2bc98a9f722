namespace Quilt.Storage;

/// <summary>
/// One place objects live: buckets of keys. Both implementations (a local folder, S3) behave the same
/// for everything above them; the differences (versions, presigned URLs) are visible in the results.
/// </summary>
public interface IObjectStore
{
    /// <summary>"file" for the local folder, "s3" for S3: the scheme of the physical keys it writes.</summary>
    string Scheme { get; }

    /// <summary>Whether objects carry version ids (S3 with versioning; never the local folder).</summary>
    Task<bool> IsVersionedAsync(string bucket, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default);

    /// <summary>One page of a listing. With a delimiter, keys below it fold into <see cref="ObjectListing.CommonPrefixes"/>.</summary>
    Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken = default);

    /// <summary>Metadata of one object. Throws <see cref="ObjectNotFoundException"/> when it does not exist.</summary>
    Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens an object for streaming, optionally a byte range. The caller disposes the stream.
    /// Throws <see cref="ObjectNotFoundException"/> when it does not exist.
    /// </summary>
    Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes an object from a stream without buffering it whole: multipart with parallel parts when large
    /// (a failed or cancelled multipart upload is aborted). The object appears whole or not at all.
    /// </summary>
    Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Server-side copy. Throws <see cref="ObjectNotFoundException"/> when the source does not exist.</summary>
    Task<PutResult> CopyAsync(ObjectRef source, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object (or one version of it). Deleting what does not exist is not an error.</summary>
    Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default);

    /// <summary>
    /// A URL that downloads the object without further credentials for <paramref name="expiresIn"/>:
    /// a presigned GET for S3, a file:// URL for the local folder.
    /// </summary>
    Task<Uri> GetDownloadUrlAsync(ObjectRef obj, TimeSpan expiresIn, CancellationToken cancellationToken = default);

    /// <summary>The longest <see cref="GetDownloadUrlAsync"/> lifetime this store can give (S3's presigned URLs: 7 days).</summary>
    TimeSpan MaxDownloadUrlLifetime => TimeSpan.FromDays(7);

    /// <summary>The physical key a manifest records for this object (s3://bucket/key?versionId=… or file:///path).</summary>
    string ToPhysicalKey(ObjectRef obj);

    /// <summary>The object a physical key names, or null when the key is not in this store.</summary>
    ObjectRef? FromPhysicalKey(string physicalKey);
}

/// <summary>An object in a bucket; VersionId null means the current version.</summary>
public sealed record ObjectRef(string Bucket, string Key, string? VersionId = null)
{
    public override string ToString() =>
        VersionId is null ? $"s3://{Bucket}/{Key}" : $"s3://{Bucket}/{Key}?versionId={VersionId}";
}

public readonly record struct ByteRange(long Offset, long? Length);

public sealed record BucketInfo(string Name, DateTimeOffset? CreatedAt);

public sealed record ListRequest(string Bucket, string Prefix = "", string? Delimiter = null, int PageSize = 1000, string? ContinuationToken = null)
{
    /// <summary>
    /// Ask for each object's current version id too (S3: a listing of object versions, so that a caller that pins versions
    /// needs no HEAD per object). A store without versions, or that cannot list them, leaves <see cref="ObjectSummary.VersionId"/> null.
    /// </summary>
    public bool WithVersionIds { get; init; }
}

public sealed record ObjectSummary(string Key, long Size, DateTimeOffset LastModified, string? ETag)
{
    /// <summary>The current version's id, when the listing asked for it (<see cref="ListRequest.WithVersionIds"/>) and there is one.</summary>
    public string? VersionId { get; init; }
}

public sealed record ObjectListing(IReadOnlyList<ObjectSummary> Objects, IReadOnlyList<string> CommonPrefixes, string? NextContinuationToken)
{
    public bool IsTruncated => NextContinuationToken is not null;
}

public sealed record ObjectInfo(
    string Bucket,
    string Key,
    long Size,
    DateTimeOffset LastModified,
    string? ETag,
    string? VersionId,
    string? ContentType,
    IReadOnlyDictionary<string, string> Metadata);

public sealed record PutRequest(string Bucket, string Key)
{
    /// <summary>Length of the content when known (required for multipart planning when the stream cannot seek).</summary>
    public long? Length { get; init; }
    public string? ContentType { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    /// <summary>When false, the put fails with <see cref="ObjectExistsException"/> if the key already exists.</summary>
    public bool Overwrite { get; init; } = true;
}

public sealed record PutResult(string Bucket, string Key, long Size, string? ETag, string? VersionId)
{
    public ObjectRef Ref => new(Bucket, Key, VersionId);
}
