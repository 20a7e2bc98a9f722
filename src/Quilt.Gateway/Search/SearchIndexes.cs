using Quilt.Gateway.Configuration;
using Quilt.Gateway.Services;
using Quilt.Search.Sqlite;

namespace Quilt.Gateway.Search;

/// <summary>
/// Opens the search index the options name: PostgreSQL full text when audit.postgres is set (shared by every
/// instance), else the embedded SQLite FTS5 index in a file beside the gateway's database (one instance).
/// </summary>
public static class SearchIndexes
{
    public static async Task<SearchIndexHolder> OpenAsync(GatewayOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Search.Enabled)
            return new SearchIndexHolder(null);
        if (!string.IsNullOrWhiteSpace(options.Audit.Postgres))
            return new SearchIndexHolder(await PostgresSearchIndex.OpenAsync(options.Audit.Postgres, cancellationToken).ConfigureAwait(false));
        var path = options.Search.SqlitePath is { Length: > 0 } configured
            ? configured
            : Path.ChangeExtension(Path.GetFullPath(options.Audit.SqlitePath), ".search.db");
        return new SearchIndexHolder(await SqliteSearchIndex.OpenAsync(path, cancellationToken).ConfigureAwait(false));
    }
}
