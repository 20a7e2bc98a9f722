using Quilt.Core;

namespace Quilt.Storage.S3;

/// <summary>
/// S3's rules for bucket names, keys and <c>s3://</c> physical keys, checked before any request is made. Shared by every
/// store of S3 objects (direct, or through a Quilt registry), so both refuse the same input with the same message.
/// </summary>
public static class S3ObjectNames
{
    public static void CheckRef(ObjectRef obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        CheckBucket(obj.Bucket);
        CheckKey(obj.Key);
    }

    // Legacy S3 bucket names allow upper case and '_'; anything else could change the request's path.
    public static void CheckBucket(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (bucket.Length is < 1 or > 255 || !bucket.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            throw new InvalidObjectPathException(
                $"Invalid bucket name '{bucket}': use 3-63 characters of lower-case letters, digits, '.' and '-'.");
    }

    public static void CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
            throw new InvalidObjectPathException("The object key is empty: give the key of an object, such as 'data/file.csv'.");
        if (System.Text.Encoding.UTF8.GetByteCount(key) > 1024)
            throw new InvalidObjectPathException($"The object key is longer than S3's limit of 1024 bytes (UTF-8): '{key[..64]}...'.");
    }

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
