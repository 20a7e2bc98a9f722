using System.Text;

namespace Quilt.Operations;

/// <summary>Checks on bucket names, keys and prefixes before anything reaches storage; each failure says why.</summary>
public static class ObjectNames
{
    public const int MaxKeyBytes = 1024;

    /// <summary>S3's rules for bucket names: 3–63 of a–z, 0–9, '.', '-', starting and ending with a letter or digit.</summary>
    public static string? BucketError(string? bucket)
    {
        if (string.IsNullOrEmpty(bucket))
            return "the bucket name is empty";
        if (bucket.Length is < 3 or > 63)
            return $"'{bucket}' is not a valid bucket name: it must be 3 to 63 characters long";
        foreach (var c in bucket)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
                return $"'{bucket}' is not a valid bucket name: '{c}' is not allowed (use lowercase letters, digits, '.' and '-')";
        }
        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
            return $"'{bucket}' is not a valid bucket name: it must start and end with a letter or digit";
        if (bucket.Contains("..", StringComparison.Ordinal))
            return $"'{bucket}' is not a valid bucket name: it cannot contain '..'";
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

    private static string? SegmentsError(string value, string what, bool allowTrailingSlash)
    {
        if (value.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || value.Contains('\u007f', StringComparison.Ordinal))
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

    private static string Printable(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
            sb.Append(c < ' ' || c == '\u007f' ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }
}
