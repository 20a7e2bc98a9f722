using System.Text;

namespace Quilt.Storage;

/// <summary>
/// The one set of rules for bucket names, keys and prefixes, checked before anything reaches storage (by the tools,
/// the stores and the gateway alike); each failure says why, in words that fit after "argument: ".
/// </summary>
public static class ObjectNames
{
    /// <summary>S3's limit on a key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    // Names S3 reserves for its own features (access points, Object Lambda, Express directory buckets, tables).
    private static readonly string[] ReservedPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"];
    private static readonly string[] ReservedSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

    /// <summary>
    /// S3's rules for general purpose bucket names: 3–63 of a–z, 0–9, '.', '-', starting and ending with a letter or digit,
    /// no '..', not an IP address, none of S3's reserved prefixes and suffixes. Legacy names (upper case, '_') are refused:
    /// S3 has not created them since 2018, and in a path-style URL they could mean another bucket.
    /// </summary>
    public static string? BucketError(string? bucket)
    {
        if (string.IsNullOrEmpty(bucket))
            return "the bucket name is empty";
        if (bucket.Length is < 3 or > 63)
            return $"'{bucket}' is not a valid bucket name: it must be 3 to 63 characters long";
        foreach (var c in bucket)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
                return $"'{Printable(bucket)}' is not a valid bucket name: '{Printable(c.ToString())}' is not allowed (use lowercase letters, digits, '.' and '-')";
        }
        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
            return $"'{bucket}' is not a valid bucket name: it must start and end with a letter or digit";
        if (bucket.Contains("..", StringComparison.Ordinal))
            return $"'{bucket}' is not a valid bucket name: it cannot contain '..'";
        if (IsIpAddress(bucket))
            return $"'{bucket}' is not a valid bucket name: it cannot be an IP address";
        if (ReservedPrefixes.FirstOrDefault(p => bucket.StartsWith(p, StringComparison.Ordinal)) is { } prefix)
            return $"'{bucket}' is not a valid bucket name: S3 reserves names starting with '{prefix}'";
        if (ReservedSuffixes.FirstOrDefault(s => bucket.EndsWith(s, StringComparison.Ordinal)) is { } suffix)
            return $"'{bucket}' is not a valid bucket name: S3 reserves names ending with '{suffix}'";
        return null;
    }

    /// <summary>
    /// An object key: not empty, at most 1024 UTF-8 bytes, no control characters, and no empty, '.' or '..'
    /// segment, so a key can never climb out of its bucket or mean two different things in a folder store.
    /// </summary>
    public static string? KeyError(string? key)
    {
        if (string.IsNullOrEmpty(key))
            return "the object key is empty (give s3://bucket/key, not just the bucket)";
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            return $"the key is longer than {MaxKeyBytes} bytes";
        return SegmentsError(key, "key", allowTrailingSlash: false);
    }

    /// <summary>A listing prefix: may be empty or end with '/', otherwise the same rules as a key.</summary>
    public static string? PrefixError(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
            return null;
        if (Encoding.UTF8.GetByteCount(prefix) > MaxKeyBytes)
            return $"the prefix is longer than {MaxKeyBytes} bytes";
        return SegmentsError(prefix, "prefix", allowTrailingSlash: true);
    }

    /// <summary>
    /// The key of an object that may exist already (named by a manifest's physical key, or listed): anything S3 can
    /// hold, so data quilt3 wrote under keys such as "a//b" stays readable. New names are checked with <see cref="KeyError"/>.
    /// </summary>
    public static string? StoredKeyError(string? key)
    {
        if (string.IsNullOrEmpty(key))
            return "the object key is empty: give the key of an object, such as 'data/file.csv'";
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            return $"the key '{Printable(key[..Math.Min(64, key.Length)])}...' is longer than S3's limit of {MaxKeyBytes} bytes (UTF-8)";
        return null;
    }

    private static string? SegmentsError(string value, string what, bool allowTrailingSlash)
    {
        // C0, DEL and C1: none belongs in a name, and some change meaning on the way through XML or a terminal.
        if (value.Any(char.IsControl))
            return $"the {what} '{Printable(value)}' contains control characters";
        var parts = value.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0 && allowTrailingSlash && i == parts.Length - 1 && i > 0)
                continue;
            if (part is "" or "." or "..")
            {
                return part.Length == 0
                    ? $"the {what} '{value}' has an empty path segment (a leading, trailing or doubled '/')"
                    : $"the {what} '{value}' has a '{part}' segment, which is not allowed (keys cannot climb out of their folder)";
            }
        }
        return null;
    }

    // Four dot-separated groups of digits, as S3 forbids (192.168.5.4).
    private static bool IsIpAddress(string bucket)
    {
        var groups = bucket.Split('.');
        return groups.Length == 4 && groups.All(g => g.Length is >= 1 and <= 3 && g.All(char.IsAsciiDigit));
    }

    private static string Printable(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
            sb.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }
}
