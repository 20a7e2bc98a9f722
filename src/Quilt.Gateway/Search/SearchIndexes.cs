using Quilt.Gateway.Configuration;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.Search;

/// <summary>Opens the search index the options name: PostgreSQL full text when audit.postgres is set (shared by every instance).</summary>
public static class SearchIndexes
{
    public static async Task<SearchIndexHolder> OpenAsync(GatewayOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Search.Enabled)
            return new SearchIndexHolder(null);
        if (!string.IsNullOrWhiteSpace(options.Audit.Postgres))
            return new SearchIndexHolder(await PostgresSearchIndex.OpenAsync(options.Audit.Postgres, cancellationToken).ConfigureAwait(false));
        return new SearchIndexHolder(null);
    }
}
