namespace Quilt.Storage.Local;

/// <summary>A content type from a key's extension, for objects put without one (the AWS SDK guesses the same way).</summary>
internal static class ContentTypes
{
    public const string Default = "application/octet-stream";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        ["csv"] = "text/csv",
        ["tsv"] = "text/tab-separated-values",
        ["txt"] = "text/plain",
        ["log"] = "text/plain",
        ["md"] = "text/markdown",
        ["html"] = "text/html",
        ["htm"] = "text/html",
        ["css"] = "text/css",
        ["js"] = "text/javascript",
        ["xml"] = "application/xml",
        ["json"] = "application/json",
        ["jsonl"] = "application/jsonl",
        ["ndjson"] = "application/x-ndjson",
        ["geojson"] = "application/geo+json",
        ["ipynb"] = "application/x-ipynb+json",
        ["yaml"] = "application/yaml",
        ["yml"] = "application/yaml",
        ["parquet"] = "application/vnd.apache.parquet",
        ["h5"] = "application/x-hdf5",
        ["hdf5"] = "application/x-hdf5",
        ["pdf"] = "application/pdf",
        ["zip"] = "application/zip",
        ["gz"] = "application/gzip",
        ["tgz"] = "application/gzip",
        ["bz2"] = "application/x-bzip2",
        ["xz"] = "application/x-xz",
        ["zst"] = "application/zstd",
        ["tar"] = "application/x-tar",
        ["xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ["png"] = "image/png",
        ["jpg"] = "image/jpeg",
        ["jpeg"] = "image/jpeg",
        ["gif"] = "image/gif",
        ["svg"] = "image/svg+xml",
        ["webp"] = "image/webp",
        ["tif"] = "image/tiff",
        ["tiff"] = "image/tiff",
        ["mp4"] = "video/mp4",
        ["wav"] = "audio/wav",
    };

    public static string FromKey(string key)
    {
        var name = key[(key.LastIndexOf('/') + 1)..];
        var dot = name.LastIndexOf('.');
        return dot > 0 && ByExtension.TryGetValue(name[(dot + 1)..], out var type) ? type : Default;
    }
}
