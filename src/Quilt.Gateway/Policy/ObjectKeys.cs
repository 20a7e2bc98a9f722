using Quilt.Storage;

namespace Quilt.Gateway.Policy;

/// <summary>
/// The bucket names and keys the gateway accepts: <see cref="ObjectNames"/>' rules (no '.', '..' or empty segment,
/// no control character), and no '\': the gateway hands out URLs, and browsers and some proxies read '\' as '/', so
/// such a key could land outside the prefix that was checked.
/// </summary>
public static class ObjectKeys
{
    /// <summary>Where quilt3 keeps a bucket's package registry: manifests and revision pointers.</summary>
    public const string RegistryPrefix = ".quilt/";

    /// <summary>
    /// Whether <paramref name="key"/> is in the package registry, which only packageConstruct writes (a manifest is
    /// never replaced, and a pointer names only a manifest that exists), never an upload.
    /// </summary>
    public static bool IsRegistryKey(string key) =>
        key.StartsWith(RegistryPrefix, StringComparison.Ordinal) || string.Equals(key, RegistryPrefix.TrimEnd('/'), StringComparison.Ordinal);

    public static bool IsValidBucketName(string? bucket) => ObjectNames.BucketError(bucket) is null;

    /// <summary>Null when <paramref name="key"/> is acceptable, else what is wrong with it.</summary>
    public static string? Validate(string? key) => ObjectNames.KeyError(key) ?? BackslashError(key!);

    /// <summary>Null when <paramref name="prefix"/> is "", a folder ending in '/' or a valid key, else what is wrong with it.</summary>
    public static string? ValidatePrefix(string? prefix) =>
        string.IsNullOrEmpty(prefix) ? null : ObjectNames.PrefixError(prefix) ?? BackslashError(prefix);

    private static string? BackslashError(string value) => value.Contains('\\', StringComparison.Ordinal) ? "it contains '\\'" : null;
}
