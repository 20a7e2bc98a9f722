using System.Security.Cryptography;
using System.Text;
using Quilt.Storage;

namespace Quilt.Operations.Search;

/// <summary>Where the embedded search index lives and how fresh a search wants it.</summary>
public sealed record SearchSettings
{
    public const string IndexFolderVariable = "QUILT_MCP_SEARCH_INDEX";

    /// <summary>The folder holding the index files, one per storage (see <see cref="DefaultIndexFolder"/>).</summary>
    public string IndexFolder { get; init; } = DefaultIndexFolder();

    /// <summary>How old a bucket's index may be before a search refreshes it first.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>$QUILT_MCP_SEARCH_INDEX, else $XDG_CACHE_HOME/quilt-mcp/search, else ~/.cache/quilt-mcp/search (as the table cache).</summary>
    public static string DefaultIndexFolder()
    {
        if (Environment.GetEnvironmentVariable(IndexFolderVariable) is { Length: > 0 } configured)
            return Path.GetFullPath(configured);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "quilt-mcp", "search");
    }

    /// <summary>
    /// The index file of one storage: a local folder by its full path, S3 by endpoint, region and profile, so two
    /// servers over the same storage share an index and two storages never mix.
    /// </summary>
    public string IndexFile(StorageSettings storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var identity = storage.Kind == StorageKind.Local
            ? "local\n" + Path.GetFullPath(storage.LocalRoot ?? StorageSettings.DefaultLocalRoot)
            : $"s3\n{storage.EndpointUrl}\n{storage.Region}\n{storage.Profile}";
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)).AsSpan(0, 8));
        return Path.Combine(IndexFolder, $"{(storage.Kind == StorageKind.Local ? "local" : "s3")}-{id}.db");
    }
}
