using System.Text;

namespace Quilt.Core;

/// <summary>
/// A Quilt+ URI: <c>quilt+s3://bucket#package=user/name@top_hash&amp;path=dir/file.csv&amp;catalog=host</c>, where the
/// revision is <c>@hash</c> (a full hash or a unique prefix), <c>:tag</c> (the name of a pointer file, such as <c>:latest</c>
/// or a revision's unix timestamp) or absent (latest). As the catalog's parser, a part given twice is refused.
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

    /// <summary>
    /// The revision as a spec <see cref="RevisionSpec"/> reads: <c>@hash</c> or <c>:tag</c>, so a tag such as a timestamp
    /// (all digits, so hex-looking) is never taken for a hash prefix; null for latest.
    /// </summary>
    public string? Revision => TopHash is not null ? Core.RevisionSpec.HashPrefix + TopHash : Tag is not null ? Core.RevisionSpec.TagPrefix + Tag : null;

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
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var part in rest[(hash + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? part : part[..eq];
                var value = eq < 0 ? "" : UrlEncoding.Unquote(part[(eq + 1)..]);
                // The catalog refuses a repeated part ("package=" specified multiple times): which one wins is anybody's guess.
                if (!seen.Add(name))
                    throw new FormatException($"'{uri}' gives \"{name}=\" more than once; give it once.");
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
        if (at >= 0 && colon >= 0)
            throw new FormatException($"'{uri}' names its revision both by hash ('@') and by tag (':'); give one of them.");
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
            if (!RevisionSpec.IsValidTag(tag))
                throw new FormatException($"'{uri}' has an invalid tag '{tag}' after ':': a tag names a pointer file (such as 'latest' or a unix timestamp).");
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
