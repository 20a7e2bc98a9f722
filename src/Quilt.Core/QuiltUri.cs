using System.Text;

namespace Quilt.Core;

/// <summary>
/// A Quilt+ URI: <c>quilt+s3://bucket#package=user/name@top_hash&amp;path=dir/file.csv&amp;catalog=host</c>, where the
/// revision is <c>@hash</c> (a full hash or a unique prefix), <c>:tag</c> (such as <c>:latest</c>) or absent (latest).
/// </summary>
public sealed record QuiltUri
{
    public const string Scheme = "quilt+s3://";

    public required string Bucket { get; init; }
    public string? PackageName { get; init; }
    public string? TopHash { get; init; }
    public string? Tag { get; init; }
    public string? Path { get; init; }
    public string? Catalog { get; init; }

    public static bool IsQuiltUri(string? value) => value?.StartsWith(Scheme, StringComparison.Ordinal) == true;

    /// <summary>Parses a quilt+s3 URI; throws <see cref="FormatException"/> naming the problem.</summary>
    public static QuiltUri Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!IsQuiltUri(uri))
            throw new FormatException($"'{uri}' is not a Quilt+ URI: expected quilt+s3://bucket#package=user/name[@hash|:tag][&path=key].");
        var rest = uri[Scheme.Length..];
        var hash = rest.IndexOf('#', StringComparison.Ordinal);
        var bucket = (hash < 0 ? rest : rest[..hash]).TrimEnd('/');
        if (bucket.Length == 0 || bucket.Contains('/', StringComparison.Ordinal) || bucket.Contains('?', StringComparison.Ordinal))
            throw new FormatException($"'{uri}' has no valid bucket: expected quilt+s3://bucket#...");

        string? package = null, topHash = null, tag = null, path = null, catalog = null;
        if (hash >= 0)
        {
            foreach (var part in rest[(hash + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? part : part[..eq];
                var value = eq < 0 ? "" : UrlEncoding.Unquote(part[(eq + 1)..]);
                switch (name)
                {
                    case "package":
                        (package, topHash, tag) = SplitPackage(value, uri);
                        break;
                    case "path":
                        path = value.Length == 0 ? null : value;
                        break;
                    case "catalog":
                        catalog = value.Length == 0 ? null : value;
                        break;
                    default:
                        throw new FormatException($"'{uri}' has an unknown part '{name}': expected package, path or catalog.");
                }
            }
        }
        if (package is null && (topHash is not null || tag is not null))
            throw new FormatException($"'{uri}' names a revision without a package.");
        return new QuiltUri { Bucket = bucket, PackageName = package, TopHash = topHash, Tag = tag, Path = path, Catalog = catalog };
    }

    private static (string Name, string? TopHash, string? Tag) SplitPackage(string value, string uri)
    {
        string name = value;
        string? topHash = null, tag = null;
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (at >= 0)
        {
            name = value[..at];
            topHash = value[(at + 1)..];
            if (!Names.IsTopHashPrefix(topHash))
                throw new FormatException($"'{uri}' has an invalid top hash '{topHash}': use 6 to 64 lowercase hex characters.");
        }
        else if (colon >= 0)
        {
            name = value[..colon];
            tag = value[(colon + 1)..];
            if (tag.Length == 0)
                throw new FormatException($"'{uri}' has an empty tag after ':'.");
        }
        if (!Names.IsValidPackageName(name))
            throw new FormatException($"'{uri}' has an invalid package name '{name}': expected user/name.");
        return (name, topHash, tag);
    }

    public override string ToString()
    {
        var sb = new StringBuilder(Scheme).Append(Bucket);
        var parts = new List<string>(3);
        if (PackageName is not null)
        {
            var revision = TopHash is not null ? "@" + TopHash : Tag is not null ? ":" + Tag : "";
            parts.Add("package=" + PackageName + revision);
        }
        if (Path is not null)
            parts.Add("path=" + UrlEncoding.Quote(Path));
        if (Catalog is not null)
            parts.Add("catalog=" + Catalog);
        if (parts.Count > 0)
            sb.Append('#').AppendJoin('&', parts);
        return sb.ToString();
    }
}
