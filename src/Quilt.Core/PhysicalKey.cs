using System.Text;

namespace Quilt.Core;

/// <summary>
/// Where an entry's bytes live, as a manifest records it: <c>s3://bucket/key?versionId=v</c> or <c>file:///abs/path</c>.
/// Formatting and parsing follow quilt3's PhysicalKey (Python's quote/unquote rules), so keys round-trip byte for byte.
/// </summary>
public sealed record PhysicalKey
{
    private PhysicalKey(string? bucket, string path, string? versionId)
    {
        Bucket = bucket;
        Path = path;
        VersionId = versionId;
    }

    /// <summary>The bucket, or null for a local file.</summary>
    public string? Bucket { get; }

    /// <summary>The object key (S3) or the absolute path (local file), decoded.</summary>
    public string Path { get; }

    public string? VersionId { get; }

    public bool IsLocal => Bucket is null;

    public static PhysicalKey S3(string bucket, string key, string? versionId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        ArgumentNullException.ThrowIfNull(key);
        if (bucket.Contains('/', StringComparison.Ordinal))
            throw new FormatException($"Bucket name '{bucket}' cannot contain '/'.");
        return new PhysicalKey(bucket, key, string.IsNullOrEmpty(versionId) ? null : versionId);
    }

    public static PhysicalKey File(string absolutePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(absolutePath);
        if (!absolutePath.StartsWith('/'))
            throw new FormatException($"A local physical key needs an absolute path; got '{absolutePath}'.");
        return new PhysicalKey(null, absolutePath, null);
    }

    public static bool TryParse(string url, out PhysicalKey? key)
    {
        try
        {
            key = Parse(url);
            return true;
        }
        catch (FormatException)
        {
            key = null;
            return false;
        }
    }

    /// <summary>Parses an s3:// or file:// URL; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static PhysicalKey Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.StartsWith("s3://", StringComparison.Ordinal))
            return ParseS3(url);
        if (url.StartsWith("file://", StringComparison.Ordinal))
            return ParseFile(url);
        throw new FormatException($"Unsupported physical key '{url}': expected s3://bucket/key or file:///absolute/path.");
    }

    private static PhysicalKey ParseS3(string url)
    {
        var rest = url["s3://".Length..];
        var hash = rest.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
            rest = rest[..hash];
        string? query = null;
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var encodedPath = slash < 0 ? "" : rest[(slash + 1)..];
        if (bucket.Length == 0)
            throw new FormatException($"'{url}' has no bucket: expected s3://bucket/key.");

        string? versionId = null;
        if (!string.IsNullOrEmpty(query))
        {
            foreach (var pair in query.Split('&'))
            {
                if (pair.Length == 0)
                    continue;
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var name = UrlEncoding.UnquotePlus(eq < 0 ? pair : pair[..eq]);
                var value = eq < 0 ? "" : UrlEncoding.UnquotePlus(pair[(eq + 1)..]);
                if (name != "versionId")
                    throw new FormatException($"Unexpected query '{query}' in '{url}': only ?versionId= is allowed.");
                if (value.Length > 0)
                    versionId ??= value;
            }
        }

        return new PhysicalKey(bucket, UrlEncoding.Unquote(encodedPath), versionId);
    }

    private static PhysicalKey ParseFile(string url)
    {
        var rest = url["file://".Length..];
        if (rest.Contains('?', StringComparison.Ordinal))
            throw new FormatException($"Unexpected query in '{url}'.");
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? rest : rest[..slash];
        if (host.Length > 0 && host != "localhost")
            throw new FormatException($"Unexpected host '{host}' in '{url}': file URLs must be file:///absolute/path.");
        if (slash < 0)
            throw new FormatException($"'{url}' has no path.");
        return new PhysicalKey(null, UrlEncoding.Unquote(rest[slash..]), null);
    }

    /// <summary>The URL quilt3 writes: the key percent-encoded with '/' kept, versionId form-encoded.</summary>
    public override string ToString()
    {
        if (Bucket is null)
            return "file://" + UrlEncoding.Quote(Path);
        var sb = new StringBuilder("s3://").Append(Bucket).Append(UrlEncoding.Quote("/" + Path));
        if (VersionId is not null)
            sb.Append("?versionId=").Append(UrlEncoding.QuotePlus(VersionId));
        return sb.ToString();
    }
}
