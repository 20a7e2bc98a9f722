namespace Quilt.Core;

/// <summary>
/// Where quilt3 keeps packages in a registry (a bucket or a local folder):
/// <c>.quilt/packages/&lt;top_hash&gt;</c> for manifests and <c>.quilt/named_packages/&lt;user&gt;/&lt;name&gt;/{&lt;unix seconds&gt;,latest}</c>
/// for pointers whose content is the top hash.
/// </summary>
public static class RegistryLayout
{
    public const string ManifestsPrefix = ".quilt/packages/";
    public const string NamedPackagesPrefix = ".quilt/named_packages/";
    public const string LatestTag = "latest";

    public static string ManifestKey(string topHash)
    {
        if (!Names.IsTopHash(topHash))
            throw new InvalidNameException($"Invalid top hash '{topHash}': expected 64 lowercase hex characters.");
        return ManifestsPrefix + topHash;
    }

    public static string PointersPrefix(string packageName)
    {
        Names.ValidatePackageName(packageName);
        return NamedPackagesPrefix + packageName + "/";
    }

    public static string PointerKey(string packageName, string pointer) => PointersPrefix(packageName) + pointer;

    public static string LatestKey(string packageName) => PointerKey(packageName, LatestTag);

    /// <summary>
    /// Where push copies an entry by default: <c>&lt;user&gt;/&lt;name&gt;/&lt;logical key&gt;</c>. A key with a '.' or '..'
    /// segment (which quilt3 reads in a manifest) is refused: an HTTP client or server may resolve it to another key,
    /// outside the package's folder.
    /// </summary>
    public static string DataKey(string packageName, string logicalKey)
    {
        ArgumentNullException.ThrowIfNull(logicalKey);
        foreach (var segment in logicalKey.Split('/'))
        {
            if (segment is "." or "..")
            {
                throw new InvalidNameException(
                    $"Entry '{logicalKey}' cannot be copied to {packageName}/{logicalKey}: its '{segment}' segment could name another object. "
                    + "Rename the entry, or keep its data where it is (no copy).");
            }
        }
        return packageName + "/" + logicalKey;
    }

    /// <summary>A revision pointer name is a unix timestamp in whole seconds.</summary>
    public static bool IsTimestampPointer(string pointer, out long unixSeconds) =>
        long.TryParse(pointer, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out unixSeconds);
}
