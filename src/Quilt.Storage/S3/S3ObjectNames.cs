using Quilt.Core;

namespace Quilt.Storage.S3;

/// <summary>
/// <see cref="ObjectNames"/>' rules as the exceptions a store throws, checked before any request is made, and <c>s3://</c>
/// physical keys. Shared by every store of S3 objects (direct, or through a Quilt registry), so both refuse the same input
/// with the same message.
/// </summary>
public static class S3ObjectNames
{
    public static void CheckRef(ObjectRef obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        CheckBucket(obj.Bucket);
        CheckKey(obj.Key);
    }

    public static void CheckBucket(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (ObjectNames.BucketError(bucket) is { } error)
            throw new InvalidObjectPathException(Sentence(error) + ".");
    }

    // The key of an object that may already exist (a manifest's physical key): what S3 can hold, not only new names.
    public static void CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (ObjectNames.StoredKeyError(key) is { } error)
            throw new InvalidObjectPathException(Sentence(error) + ".");
    }

    private static string Sentence(string error) => char.ToUpperInvariant(error[0]) + error[1..];

    /// <summary>An <c>s3://bucket/key?versionId=</c> physical key as an object; null for another scheme.</summary>
    public static ObjectRef? FromPhysicalKey(string physicalKey)
    {
        ArgumentNullException.ThrowIfNull(physicalKey);
        if (!physicalKey.StartsWith("s3://", StringComparison.Ordinal))
            return null;
        PhysicalKey key;
        try
        {
            key = PhysicalKey.Parse(physicalKey);
        }
        catch (FormatException ex)
        {
            throw new InvalidObjectPathException(ex.Message);
        }
        return new ObjectRef(key.Bucket!, key.Path, key.VersionId);
    }
}
