using Quilt.Core;
using Quilt.Gateway.Policy;
using Quilt.Search;

namespace Quilt.Gateway.Services;

/// <summary>The gateway's search index, or none (search disabled): owned by the host, disposed with it.</summary>
public sealed class SearchIndexHolder(ISearchIndex? index) : IAsyncDisposable
{
    public ISearchIndex? Index { get; } = index;

    public ValueTask DisposeAsync() => Index?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>
/// The four searches for one caller over the gateway's index: what the active role may read becomes the
/// <see cref="SearchScope"/> inside every query (so hits, totals and facets show nothing else), and cursors are
/// sealed to the caller and role that got them (another user's or role's cursor is refused).
/// </summary>
public sealed class SearchService(SearchIndexHolder holder, RolePolicy policy, ListingCursors cursors, SearchFeed feed)
{
    private const string PackagesCursor = "search:packages";
    private const string ObjectsCursor = "search:objects";

    public async Task<PackageSearchResults> SearchPackagesAsync(Caller caller, PackageSearchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        var index = Index();
        var scope = Scope(caller.Role, request.Buckets);
        // The embedded index refuses mistyped predicates itself, from all it holds; the facets read here are a sample.
        if (request.UserMetaFilters is { Count: > 0 } predicates && !index.RefusesMistypedPredicates)
            await CheckPredicateTypesAsync(index, request, predicates, scope, cancellationToken).ConfigureAwait(false);
        var results = await Run(() => index.SearchPackagesAsync(request, scope, cancellationToken)).ConfigureAwait(false);
        return results with { FirstPage = Seal(results.FirstPage, caller, PackagesCursor) };
    }

    public async Task<SearchPage<PackageHit>> MorePackagesAsync(Caller caller, string after, int size, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var index = Index();
        var inner = Open(after, caller, PackagesCursor);
        var page = await Run(() => index.MorePackagesAsync(inner, size, Scope(caller.Role, []), cancellationToken)).ConfigureAwait(false);
        return Seal(page, caller, PackagesCursor);
    }

    public async Task<ObjectSearchResults> SearchObjectsAsync(Caller caller, ObjectSearchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        var index = Index();
        var scope = Scope(caller.Role, request.Buckets);
        // Objects uploaded with presigned POSTs reach S3 without the gateway: look for them before answering.
        await feed.IndexPendingUploadsAsync(cancellationToken).ConfigureAwait(false);
        var results = await Run(() => index.SearchObjectsAsync(request, scope, cancellationToken)).ConfigureAwait(false);
        return results with { FirstPage = Seal(results.FirstPage, caller, ObjectsCursor) };
    }

    public async Task<SearchPage<ObjectHit>> MoreObjectsAsync(Caller caller, string after, int size, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var index = Index();
        var inner = Open(after, caller, ObjectsCursor);
        var page = await Run(() => index.MoreObjectsAsync(inner, size, Scope(caller.Role, []), cancellationToken)).ConfigureAwait(false);
        return Seal(page, caller, ObjectsCursor);
    }

    /// <summary>
    /// What <paramref name="role"/> may read, as a search scope: per bucket, the whole bucket or only its readable
    /// prefixes, and its packages when the role may read the bucket's .quilt/ (pointers and manifests). Buckets named
    /// in the request must be among them; the scope stays the role's whole one (the index narrows it to the request's
    /// buckets), so that a cursor's next page runs with the same scope as its first.
    /// </summary>
    public SearchScope Scope(string role, IReadOnlyList<string> requested)
    {
        var reads = policy.Find(role)?.Grants.Where(g => g.Read).ToList() ?? [];
        var buckets = new List<BucketScope>();
        foreach (var group in reads.GroupBy(g => g.Bucket, StringComparer.Ordinal))
        {
            var prefixes = group.Select(g => g.Prefix).Distinct(StringComparer.Ordinal).ToList();
            var whole = prefixes.Contains("");
            var packages = policy.CheckPrefix(role, group.Key, RegistryLayout.NamedPackagesPrefix, AccessKind.Read).Allowed
                && policy.CheckPrefix(role, group.Key, RegistryLayout.ManifestsPrefix, AccessKind.Read).Allowed;
            buckets.Add(new BucketScope(group.Key, whole ? null : prefixes, packages));
        }
        foreach (var bucket in requested)
        {
            if (!buckets.Any(b => string.Equals(b.Bucket, bucket, StringComparison.Ordinal)))
            {
                throw GatewayException.Invalid(
                    $"Role '{role}' may not read bucket '{bucket}', so it cannot be searched. Buckets you may search: {(buckets.Count == 0 ? "none" : string.Join(", ", buckets.Select(b => b.Bucket)))}; or leave buckets out to search them all.",
                    "buckets");
            }
        }
        return new SearchScope(buckets);
    }

    /// <summary>
    /// Refuses a metadata predicate whose field the visible packages hold, but never as the predicate's type (a number
    /// range on a field that is always a string), which would otherwise quietly match nothing. The types are the
    /// facets of the same buckets without any filter, so the check sees only what the caller may see.
    /// </summary>
    private static async Task CheckPredicateTypesAsync(ISearchIndex index, PackageSearchRequest request, IReadOnlyList<UserMetaPredicate> predicates,
        SearchScope scope, CancellationToken cancellationToken)
    {
        var facets = (await Run(() => index.SearchPackagesAsync(new PackageSearchRequest(request.Buckets, Size: 1), scope, cancellationToken)).ConfigureAwait(false))
            .Stats.UserMeta;
        for (var i = 0; i < predicates.Count; i++)
        {
            var predicate = predicates[i];
            var types = facets.Where(f => string.Equals(f.Path, predicate.Path, StringComparison.Ordinal)).Select(f => f.Type).Distinct().ToList();
            // A keyword with many values is a text facet; a date is a string too: MatchedBy says so for every index.
            var accepted = MetaFieldTypes.MatchedBy(predicate.Type);
            if (types.Count > 0 && accepted is not null && !types.Any(accepted.Contains))
            {
                var stored = string.Join(" or ", types.Select(t => t.ToString().ToLowerInvariant()));
                throw GatewayException.Invalid(
                    $"userMetaFilters[{i}]: metadata field {predicate.Path} is {stored} here, not {predicate.Type.ToString().ToLowerInvariant()}. Use a {types[0].ToString().ToLowerInvariant()} predicate for it.",
                    $"userMetaFilters[{i}]");
            }
        }
    }

    private ISearchIndex Index() => holder.Index
        ?? throw new GatewayException("UNAVAILABLE", "Search is turned off on this gateway (search.enabled is false). Ask its operator to turn it on.");

    private static async Task<T> Run<T>(Func<Task<T>> search)
    {
        try
        {
            return await search().ConfigureAwait(false);
        }
        catch (SearchQueryException ex)
        {
            throw GatewayException.Invalid(ex.Message, ex.Field);
        }
    }

    private SearchPage<T> Seal<T>(SearchPage<T> page, Caller caller, string kind) =>
        page.Cursor is null ? page : page with { Cursor = cursors.Seal(Binding(caller, kind), page.Cursor) };

    private string Open(string after, Caller caller, string kind) =>
        cursors.Open(Binding(caller, kind), after)
        ?? throw GatewayException.Invalid(
            "This cursor was not given to you for this search (it belongs to another user, role or search, or was altered). Run the search again for a new one.",
            "after");

    // The cursor binding of listings, with a "bucket" no bucket can be named, so the two kinds never open each other.
    private static ListingCursorBinding Binding(Caller caller, string kind) => new(kind, "", null, caller.Subject, caller.Role);
}
