namespace Quilt.Storage;

/// <summary>
/// The one table of content types by file extension (for objects put without one, by the tools and the local folder
/// store alike), and which of them are text, image or audio.
/// </summary>
public static class ContentTypes
{
    public const string Binary = "application/octet-stream";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".txt"] = "text/plain",
        [".log"] = "text/plain",
        [".md"] = "text/markdown",
        [".csv"] = "text/csv",
        [".tsv"] = "text/tab-separated-values",
        [".tab"] = "text/tab-separated-values",
        [".json"] = "application/json",
        [".jsonl"] = "application/jsonl",
        [".ndjson"] = "application/x-ndjson",
        [".geojson"] = "application/geo+json",
        [".xml"] = "application/xml",
        [".html"] = "text/html",
        [".htm"] = "text/html",
        [".css"] = "text/css",
        [".yaml"] = "application/yaml",
        [".yml"] = "application/yaml",
        [".toml"] = "application/toml",
        [".py"] = "text/x-python",
        [".js"] = "text/javascript",
        [".ts"] = "text/plain",
        [".sh"] = "text/x-shellscript",
        [".parquet"] = "application/vnd.apache.parquet",
        [".pq"] = "application/vnd.apache.parquet",
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
        [".bmp"] = "image/bmp",
        [".tif"] = "image/tiff",
        [".tiff"] = "image/tiff",
        [".svg"] = "image/svg+xml",
        [".wav"] = "audio/wav",
        [".mp3"] = "audio/mpeg",
        [".ogg"] = "audio/ogg",
        [".flac"] = "audio/flac",
        [".mp4"] = "video/mp4",
        [".pdf"] = "application/pdf",
        [".zip"] = "application/zip",
        [".gz"] = "application/gzip",
        [".tgz"] = "application/gzip",
        [".bz2"] = "application/x-bzip2",
        [".xz"] = "application/x-xz",
        [".zst"] = "application/zstd",
        [".tar"] = "application/x-tar",
        [".xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [".h5"] = "application/x-hdf5",
        [".hdf5"] = "application/x-hdf5",
        [".ipynb"] = "application/x-ipynb+json",
    };

    public static string Guess(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var name = key[(key.LastIndexOf('/') + 1)..];
        return ByExtension.TryGetValue(Path.GetExtension(name), out var type) ? type : Binary;
    }

    /// <summary>The stored type unless it is missing or the generic binary type, then a guess from the key.</summary>
    public static string Effective(string? stored, string key) =>
        string.IsNullOrWhiteSpace(stored) || stored.StartsWith(Binary, StringComparison.OrdinalIgnoreCase) ? Guess(key) : stored;

    public static bool IsText(string contentType)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        var type = Essence(contentType);
        return type.StartsWith("text/", StringComparison.Ordinal)
            || type.EndsWith("+json", StringComparison.Ordinal) || type.EndsWith("+xml", StringComparison.Ordinal)
            || type is "application/json" or "application/jsonl" or "application/x-ndjson" or "application/xml"
                or "application/yaml" or "application/toml" or "application/javascript" or "image/svg+xml";
    }

    /// <summary>Raster images that MCP clients can show (SVG is text, sent as text).</summary>
    public static bool IsImage(string contentType) =>
        Essence(contentType) is var type && type.StartsWith("image/", StringComparison.Ordinal) && type != "image/svg+xml";

    public static bool IsAudio(string contentType) => Essence(contentType).StartsWith("audio/", StringComparison.Ordinal);

    /// <summary>"type/subtype" in lower case, without parameters such as charset.</summary>
    public static string Essence(string contentType)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        var semi = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semi < 0 ? contentType : contentType[..semi]).Trim().ToLowerInvariant();
    }

    /// <summary>A plausible "type/subtype[; parameters]" of printable ASCII; null when it is, else what is wrong.</summary>
    public static string? Error(string contentType)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        var essence = Essence(contentType);
        var slash = essence.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == essence.Length - 1 || essence.IndexOf('/', slash + 1) >= 0)
            return $"'{contentType}' is not a content type such as text/csv or image/png";
        foreach (var c in contentType)
        {
            if (c is < ' ' or > '~')
                return $"'{contentType}' has a character that is not printable ASCII";
        }
        return null;
    }
}
