namespace Quilt.Storage.S3;

/// <summary>How <see cref="S3ObjectStore"/> reaches S3 and how it splits large uploads.</summary>
public sealed record S3StoreOptions
{
    /// <summary>S3's smallest part (all but the last); also the smallest <see cref="PartSize"/> allowed.</summary>
    public const long MinPartSize = MultipartPlan.MinPartSize;

    /// <summary>The most parts one multipart upload may have.</summary>
    public const int MaxParts = MultipartPlan.MaxParts;

    /// <inheritdoc cref="MultipartPlan.PartSizeFor"/>
    public static long PartSizeFor(long size, long preferred) => MultipartPlan.PartSizeFor(size, preferred);

    /// <summary>AWS region; null means the AWS SDK's own choice (AWS_REGION, the profile, ...).</summary>
    public string? Region { get; init; }

    /// <summary>An S3-compatible endpoint such as http://127.0.0.1:7480; null means AWS_ENDPOINT_URL_S3, else AWS.</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>A named AWS profile; null means the AWS SDK's default credential chain.</summary>
    public string? Profile { get; init; }

    /// <summary>Address buckets by path (http://host/bucket/key). Always on when an endpoint is given.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>Objects of this size or larger are uploaded in parts.</summary>
    public long MultipartThreshold { get; init; } = 8L * 1024 * 1024;

    /// <summary>Part size; raised for objects that would otherwise need more than <see cref="MaxParts"/> parts.</summary>
    public long PartSize { get; init; } = 8L * 1024 * 1024;

    /// <summary>Parts in flight at once per upload; each holds one part in memory.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>
    /// Where multipart uploads in progress are recorded (see <see cref="MultipartJournal"/>), so that one left by a killed
    /// process is aborted by the next store opened for the same endpoint; null records nothing.
    /// </summary>
    public string? UploadJournalFolder { get; init; }

    /// <summary>Objects larger than this are copied in parts (S3 refuses a single copy above 5 GiB).</summary>
    internal long MultipartCopyThreshold { get; init; } = 5L * 1024 * 1024 * 1024;

    internal void Validate()
    {
        // A single PUT is sent from one buffer, so the threshold also bounds its memory.
        if (MultipartThreshold is < 0 or > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(MultipartThreshold), MultipartThreshold, $"The multipart threshold must be from 0 to {int.MaxValue} bytes.");
        if (PartSize < MinPartSize || PartSize > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(PartSize), PartSize, $"The part size must be from {MinPartSize} bytes (5 MiB, S3's minimum) to {int.MaxValue} bytes.");
        if (Concurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, "Concurrency must be at least 1.");
        if (MultipartCopyThreshold < MinPartSize)
            throw new ArgumentOutOfRangeException(nameof(MultipartCopyThreshold), MultipartCopyThreshold, "The multipart copy threshold must be at least 5 MiB.");
        if (EndpointUrl is not null && !(Uri.TryCreate(EndpointUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            throw new ArgumentException($"Invalid S3 endpoint '{EndpointUrl}': give an http:// or https:// URL such as http://127.0.0.1:7480.", nameof(EndpointUrl));
    }
}
