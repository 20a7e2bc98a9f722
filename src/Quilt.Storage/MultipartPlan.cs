namespace Quilt.Storage;

/// <summary>
/// S3's limits on a multipart upload and how an object of a known size is cut into parts, the same for the S3 store,
/// uploads through a Quilt registry and the gateway's part URLs.
/// </summary>
public static class MultipartPlan
{
    /// <summary>S3's smallest part (all but the last).</summary>
    public const long MinPartSize = 5L * 1024 * 1024;

    /// <summary>S3's largest part.</summary>
    public const long MaxPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>The most parts one multipart upload may have.</summary>
    public const int MaxParts = 10_000;

    /// <summary>S3's largest object (5 TiB).</summary>
    public const long MaxObjectSize = 5L * 1024 * 1024 * 1024 * 1024;

    /// <summary>The part size for an upload of <paramref name="size"/> bytes: <paramref name="preferred"/>, raised so that no more than <see cref="MaxParts"/> parts are needed.</summary>
    public static long PartSizeFor(long size, long preferred) => Math.Max(preferred, (size + MaxParts - 1) / MaxParts);

    /// <summary>Whether parts of <paramref name="partSize"/> bytes are allowed and cut <paramref name="size"/> bytes into at most <see cref="MaxParts"/>.</summary>
    public static bool Fits(long size, long partSize) => partSize is >= MinPartSize and <= MaxPartSize && PartCount(size, partSize) <= MaxParts;

    /// <summary>How many parts <paramref name="size"/> bytes take in parts of <paramref name="partSize"/>.</summary>
    public static long PartCount(long size, long partSize) => (size + partSize - 1) / partSize;

    /// <summary>The bytes part <paramref name="number"/> (from 1) holds: the part size, or what is left for the last part.</summary>
    public static long PartLength(long size, long partSize, int number) => Math.Min(partSize, size - (long)(number - 1) * partSize);
}
