using System.Text;

namespace Quilt.Gateway.Policy;

/// <summary>
/// The bucket names and keys the gateway accepts. S3 itself takes almost any key, but URL handling along the way
/// (System.Uri, proxies, other S3 servers) may fold "a/../b" into "b", so a key with '.' or '..' segments could land
/// outside the prefix that was checked. Such keys are refused, as are empty segments and control characters.
/// </summary>
public static class ObjectKeys
{
    public const int MaxKeyBytes = 1024;

    /// <summary>Where quilt3 keeps a bucket's package registry: manifests and revision pointers.</summary>
    public const string RegistryPrefix = ".quilt/";

    /// <summary>
    /// Whether <paramref name="key"/> is in the package registry, which only packageConstruct writes (a manifest is
    /// never replaced, and a pointer names only a manifest that exists), never an upload.
    /// </summary>
    public static bool IsRegistryKey(string key) =>
        key.StartsWith(RegistryPrefix, StringComparison.Ordinal) || string.Equals(key, RegistryPrefix.TrimEnd('/'), StringComparison.Ordinal);

    public static bool IsValidBucketName(string? bucket)
    {
        if (bucket is null || bucket.Length is < 3 or > 63)
            return false;
        foreach (var c in bucket)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-'))
                return false;
        }
        return char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1]) && !bucket.Contains("..", StringComparison.Ordinal);
    }

    /// <summary>Null when <paramref name="key"/> is acceptable, else what is wrong with it.</summary>
    public static string? Validate(string? key)
    {
        if (string.IsNullOrEmpty(key))
            return "the key is empty";
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            return $"the key is longer than {MaxKeyBytes} bytes";
        if (key.StartsWith('/'))
            return "the key starts with '/'";
        foreach (var c in key)
        {
            if (char.IsControl(c))
                return "the key contains a control character";
            if (c == '\\')
                return "the key contains '\\'";
        }
        var segments = key.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            if (s is "." or "..")
                return "the key has a '.' or '..' segment";
            // A trailing '/' (a folder marker) leaves one empty last segment; any other empty segment is '//'.
            if (s.Length == 0 && i != segments.Length - 1)
                return "the key contains '//'";
        }
        return null;
    }

    /// <summary>Null when <paramref name="prefix"/> is "" or a valid key, else what is wrong with it.</summary>
    public static string? ValidatePrefix(string? prefix) => string.IsNullOrEmpty(prefix) ? null : Validate(prefix);
}
