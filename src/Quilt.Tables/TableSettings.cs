namespace Quilt.Tables;

/// <summary>Where the table cache lives, how large it may grow, and the limits every table call runs under.</summary>
public sealed record TableSettings
{
    public const string CacheFolderVariable = "QUILT_MCP_TABLE_CACHE";
    public const string CacheBytesVariable = "QUILT_MCP_TABLE_CACHE_BYTES";
    public const long DefaultCacheBytes = 4L * 1024 * 1024 * 1024;
    public const int MaxRowsPerPage = 1000;

    /// <summary>The folder fetched tables are kept in (see <see cref="DefaultCacheFolder"/>).</summary>
    public string CacheFolder { get; init; } = DefaultCacheFolder();

    /// <summary>The most bytes the cache keeps; the least recently used files go first.</summary>
    public long CacheBytes { get; init; } = DefaultCacheBytes;

    /// <summary>The most bytes of cell text one page of rows carries; a page stops short of it (and says where to go on).</summary>
    public int MaxResultBytes { get; init; } = 256 * 1024;

    /// <summary>How long one query (or describe, or page of rows) may run before DuckDB is interrupted.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>DuckDB's memory limit for one call (it spills nowhere: the sandbox has no temporary folder).</summary>
    public string MemoryLimit { get; init; } = "1GB";

    /// <summary>How many files one glob of package entries may name.</summary>
    public int MaxFilesPerTable { get; init; } = 1000;

    /// <summary>$QUILT_MCP_TABLE_CACHE, else $XDG_CACHE_HOME/quilt-mcp/tables, else ~/.cache/quilt-mcp/tables.</summary>
    public static string DefaultCacheFolder()
    {
        if (Environment.GetEnvironmentVariable(CacheFolderVariable) is { Length: > 0 } configured)
            return Path.GetFullPath(configured);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "quilt-mcp", "tables");
    }

    /// <summary>The defaults, with the cache size from $QUILT_MCP_TABLE_CACHE_BYTES when it is set.</summary>
    public static TableSettings FromEnvironment()
    {
        var settings = new TableSettings();
        if (Environment.GetEnvironmentVariable(CacheBytesVariable) is { Length: > 0 } text)
        {
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes) || bytes < 1)
                throw new ArgumentException($"{CacheBytesVariable} '{text}' is not a positive number of bytes.");
            settings = settings with { CacheBytes = bytes };
        }
        return settings;
    }
}
