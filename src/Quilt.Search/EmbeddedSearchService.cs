using Microsoft.Data.Sqlite;
using Quilt.Search.Indexing;
using Quilt.Search.Sqlite;

namespace Quilt.Search;

/// <summary>
/// Search over a local folder or S3 through the embedded index: before each search, the buckets it covers are
/// refreshed if their index is older than <see cref="MaxAge"/> (built on first use); the scope is the buckets the
/// server may use, whole.
/// </summary>
/// <param name="resolveBuckets">
/// The buckets a search covers, given those it asked for (empty: the server's default set); refuses, with a message,
/// a bucket the server may not read. The scope is these buckets, whole.
/// </param>
public sealed class EmbeddedSearchService(StoreIndexer indexer, Func<IReadOnlyList<string>, CancellationToken, Task<IReadOnlyList<string>>> resolveBuckets, TimeSpan maxAge)
    : ISearchService
{
    /// <summary>How old a bucket's index may be before a search refreshes it.</summary>
    public TimeSpan MaxAge => maxAge;

    public StoreIndexer Indexer => indexer;

    /// <summary>
    /// Refreshes the stale ones among <paramref name="buckets"/> (empty: every searchable bucket), reporting progress;
    /// returns the scope the search runs in. Unknown buckets are left to the search to refuse, by name.
    /// </summary>
    public async Task<SearchScope> PrepareAsync(IReadOnlyList<string> buckets, IProgress<IndexingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var searchable = await resolveBuckets(buckets, cancellationToken).ConfigureAwait(false);
        var scope = SearchScope.Whole(searchable);
        foreach (var bucket in searchable)
        {
            try
            {
                await indexer.RefreshIfStaleAsync(bucket, maxAge, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException e) when (SqliteSearchIndex.IsDamaged(e))
            {
                throw new SearchQueryException($"The search index {indexer.Index.FilePath} is damaged ({e.Message}). It is rebuilt when the server next starts; or delete the file.", e);
            }
        }
        return scope;
    }

    public async Task<PackageSearchResults> SearchPackagesAsync(PackageSearchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var scope = await PrepareAsync(request.Buckets, null, cancellationToken).ConfigureAwait(false);
        return await indexer.Index.SearchPackagesAsync(request, scope, cancellationToken).ConfigureAwait(false);
    }

    public async Task<SearchPage<PackageHit>> MorePackagesAsync(string cursor, int size, CancellationToken cancellationToken) =>
        await indexer.Index.MorePackagesAsync(cursor, size, await CursorScopeAsync(cursor, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async Task<ObjectSearchResults> SearchObjectsAsync(ObjectSearchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var scope = await PrepareAsync(request.Buckets, null, cancellationToken).ConfigureAwait(false);
        return await indexer.Index.SearchObjectsAsync(request, scope, cancellationToken).ConfigureAwait(false);
    }

    public async Task<SearchPage<ObjectHit>> MoreObjectsAsync(string cursor, int size, CancellationToken cancellationToken) =>
        await indexer.Index.MoreObjectsAsync(cursor, size, await CursorScopeAsync(cursor, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>The scope a cursor's search ran in, resolved again now (so a bucket no longer allowed is refused).</summary>
    private async Task<SearchScope> CursorScopeAsync(string cursor, CancellationToken cancellationToken) =>
        SearchScope.Whole(await resolveBuckets(indexer.Index.CursorBuckets(cursor), cancellationToken).ConfigureAwait(false));
}
