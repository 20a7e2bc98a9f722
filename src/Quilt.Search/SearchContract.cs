using System.Text.Json;

namespace Quilt.Search;

// The search contract, shaped as Quilt's own GraphQL (searchPackages / searchObjects / searchMorePackages /
// searchMoreObjects in ../shared/quilt/schema.graphql) so that one set of types serves every mode: the embedded
// index (local folder, S3), the registry server's GraphQL (registry mode) and the gateway's own index.

/// <summary>How hits are ordered (Quilt's <c>SearchResultOrder</c>).</summary>
public enum SearchOrder
{
    /// <summary>By relevance to the search string (then newest).</summary>
    BestMatch,
    /// <summary>Most recently modified first.</summary>
    Newest,
    /// <summary>Least recently modified first.</summary>
    Oldest,
    /// <summary>By package name or object key, ascending (ordinal).</summary>
    LexAsc,
    /// <summary>By package name or object key, descending (ordinal).</summary>
    LexDesc,
}

/// <summary>An inclusive time range (Quilt's <c>DatetimeSearchPredicate</c>); an absent bound is open.</summary>
public sealed record DateRange(DateTimeOffset? Gte = null, DateTimeOffset? Lte = null);

/// <summary>An inclusive number range (Quilt's <c>NumberSearchPredicate</c>); an absent bound is open.</summary>
public sealed record NumberRange(double? Gte = null, double? Lte = null);

/// <summary>
/// Exact keywords, any of which matches, and/or one wildcard pattern (<c>*</c> any run, <c>?</c> one character), both
/// case-sensitive as Elasticsearch keyword fields are (Quilt's <c>KeywordSearchPredicate</c>).
/// </summary>
public sealed record KeywordMatch(IReadOnlyList<string>? Terms = null, string? Wildcard = null);

/// <summary>A query in the search syntax (<see cref="Query.SearchQueryParser"/>) against one text field (Quilt's <c>TextSearchPredicate</c>).</summary>
public sealed record TextMatch(string QueryString);

/// <summary>Which boolean values match (Quilt's <c>BooleanSearchPredicate</c>); both absent matches either.</summary>
public sealed record BooleanMatch(bool? True = null, bool? False = null);

/// <summary>The type a package metadata field is indexed and filtered as (Quilt's <c>PackageUserMetaFacetType</c>).</summary>
public enum MetaFieldType
{
    /// <summary>A JSON number.</summary>
    Number,
    /// <summary>A string that parses as an ISO 8601 date or date-time.</summary>
    Datetime,
    /// <summary>A short string, matched exactly.</summary>
    Keyword,
    /// <summary>A string, matched by words.</summary>
    Text,
    /// <summary>A JSON true or false.</summary>
    Boolean,
}

/// <summary>Which stored field types a metadata predicate can match: the one rule every index refuses mistyped predicates by.</summary>
public static class MetaFieldTypes
{
    private static readonly MetaFieldType[] KeywordMatches = [MetaFieldType.Datetime, MetaFieldType.Keyword, MetaFieldType.Text];

    /// <summary>
    /// The stored types a predicate of <paramref name="predicate"/> type compares; null for a text predicate, which
    /// matches any field (every leaf has words). A keyword predicate compares strings, dates and text among them.
    /// </summary>
    public static IReadOnlyList<MetaFieldType>? MatchedBy(MetaFieldType predicate) => predicate switch
    {
        MetaFieldType.Text => null,
        MetaFieldType.Keyword => KeywordMatches,
        _ => [predicate],
    };
}

/// <summary>
/// A typed filter on one field of a package's metadata (Quilt's <c>PackageUserMetaPredicate</c>). <see cref="Path"/>
/// is a JSON pointer into the metadata (<c>/experiment/temperature</c>); exactly one predicate is set, and its kind
/// is the <see cref="Type"/>.
/// </summary>
public sealed record UserMetaPredicate(
    string Path,
    MetaFieldType Type,
    NumberRange? Number = null,
    DateRange? Datetime = null,
    KeywordMatch? Keyword = null,
    TextMatch? Text = null,
    BooleanMatch? Boolean = null);

/// <summary>Filters on packages (Quilt's <c>PackagesSearchFilter</c>); every one set must match.</summary>
public sealed record PackageSearchFilter(
    DateRange? Modified = null,
    NumberRange? Size = null,
    KeywordMatch? Name = null,
    KeywordMatch? Hash = null,
    NumberRange? Entries = null,
    TextMatch? Comment = null,
    KeywordMatch? Workflow = null);

/// <summary>Filters on objects (Quilt's <c>ObjectsSearchFilter</c>); every one set must match.</summary>
public sealed record ObjectSearchFilter(
    DateRange? Modified = null,
    NumberRange? Size = null,
    KeywordMatch? Ext = null,
    KeywordMatch? Key = null,
    TextMatch? Content = null,
    BooleanMatch? Deleted = null);

/// <summary>A package search (Quilt's <c>searchPackages</c> then <c>firstPage</c>).</summary>
/// <param name="Buckets">The buckets to search; empty means every bucket the caller may read.</param>
/// <param name="SearchString">A query in the search syntax, matched against name, message, metadata, workflow and entry keys and metadata; null or blank matches every package.</param>
/// <param name="LatestOnly">Only the revision each package's <c>latest</c> pointer names.</param>
/// <param name="Size">Hits on the first page.</param>
public sealed record PackageSearchRequest(
    IReadOnlyList<string> Buckets,
    string? SearchString = null,
    PackageSearchFilter? Filter = null,
    IReadOnlyList<UserMetaPredicate>? UserMetaFilters = null,
    bool LatestOnly = false,
    int Size = 30,
    SearchOrder Order = SearchOrder.BestMatch);

/// <summary>An object search (Quilt's <c>searchObjects</c> then <c>firstPage</c>).</summary>
/// <param name="Buckets">The buckets to search; empty means every bucket the caller may read.</param>
/// <param name="SearchString">A query in the search syntax, matched against the key and the indexed text; null or blank matches every object.</param>
/// <param name="Size">Hits on the first page.</param>
public sealed record ObjectSearchRequest(
    IReadOnlyList<string> Buckets,
    string? SearchString = null,
    ObjectSearchFilter? Filter = null,
    int Size = 30,
    SearchOrder Order = SearchOrder.BestMatch);

/// <summary>An inclusive extent of the times seen (Quilt's <c>DatetimeExtents</c>).</summary>
public sealed record DateExtents(DateTimeOffset Min, DateTimeOffset Max);

/// <summary>An inclusive extent of the numbers seen (Quilt's <c>NumberExtents</c>).</summary>
public sealed record NumberExtents(double Min, double Max);

/// <summary>
/// One metadata field seen among the hits, with its type and, for numbers, dates and low-cardinality keywords, its
/// extent (Quilt's <c>PackageUserMetaFacet</c> union, flattened: the member matching <see cref="Type"/> is set).
/// </summary>
public sealed record UserMetaFacet(
    string Path,
    MetaFieldType Type,
    bool Sortable,
    NumberExtents? Number = null,
    DateExtents? Datetime = null,
    IReadOnlyList<string>? Keywords = null);

/// <summary>Facets over every hit of a package search, not only the first page (Quilt's <c>PackagesSearchStats</c>).</summary>
/// <param name="Workflows">Workflow names seen, most frequent first.</param>
/// <param name="UserMetaTruncated">More metadata fields were seen than <see cref="UserMeta"/> lists.</param>
/// <param name="UserMetaSample">
/// Null when <see cref="UserMeta"/> describes every hit; otherwise the number of hits it describes: the first ones in
/// the search's order (an index may bound that work, as Elasticsearch's aggregations are approximate too). The extents
/// and workflows always cover every hit.
/// </param>
public sealed record PackageSearchStats(
    DateExtents? Modified,
    NumberExtents? Size,
    NumberExtents? Entries,
    IReadOnlyList<string> Workflows,
    IReadOnlyList<UserMetaFacet> UserMeta,
    bool UserMetaTruncated,
    int? UserMetaSample = null);

/// <summary>Facets over every hit of an object search (Quilt's <c>ObjectsSearchStats</c>).</summary>
/// <param name="Extensions">Extensions seen (lower case, with the dot: <c>.csv</c>), most frequent first.</param>
public sealed record ObjectSearchStats(DateExtents? Modified, NumberExtents? Size, IReadOnlyList<string> Extensions);

/// <summary>One page of hits and the cursor for the next (null: no more). A cursor is opaque and bound to its search.</summary>
public sealed record SearchPage<THit>(IReadOnlyList<THit> Hits, string? Cursor);

/// <summary>Where a package matched the search string (Quilt's <c>SearchHitPackageMatchLocations</c>).</summary>
public sealed record PackageMatchLocations(bool Name, bool Comment, bool Meta, bool Workflow);

/// <summary>Where an entry matched the search string (Quilt's <c>SearchHitPackageEntryMatchLocations</c>).</summary>
public sealed record EntryMatchLocations(bool LogicalKey, bool PhysicalKey, bool Meta, bool Contents);

/// <summary>An entry of a hit package that matched the search string (Quilt's <c>SearchHitPackageMatchingEntry</c>).</summary>
/// <param name="Meta">The entry's whole metadata as JSON (quilt3's <c>_meta</c>, with <c>user_meta</c> inside), or null.</param>
public sealed record PackageMatchingEntry(string LogicalKey, string PhysicalKey, double Size, string? Meta, EntryMatchLocations MatchLocations);

/// <summary>A package revision that matched (Quilt's <c>SearchHitPackage</c>).</summary>
/// <param name="Id">Stable for the revision: the same hit on a later page or search has the same id.</param>
/// <param name="Pointer">The pointer file naming this revision (<c>latest</c> when it is the latest, else its timestamp).</param>
/// <param name="Hash">The revision's top hash.</param>
/// <param name="Size">The sum of its entries' sizes.</param>
/// <param name="Comment">The revision's message.</param>
/// <param name="Meta">The package metadata (<c>user_meta</c>) as JSON, or null.</param>
/// <param name="Workflow">The workflow record (quilt3's <c>workflow</c>: <c>config</c>, <c>id</c>, <c>schemas</c>), or null.</param>
public sealed record PackageHit(
    string Id,
    double Score,
    string Bucket,
    string Name,
    string Pointer,
    string Hash,
    double Size,
    DateTimeOffset Modified,
    int TotalEntriesCount,
    string? Comment,
    string? Meta,
    JsonElement? Workflow,
    PackageMatchLocations MatchLocations,
    IReadOnlyList<PackageMatchingEntry> MatchingEntries);

/// <summary>An object that matched (Quilt's <c>SearchHitObject</c>).</summary>
/// <param name="Version">The S3 version id, or <c>""</c> where the store has none.</param>
/// <param name="IndexedContent">The start of the indexed text, or null for an object whose text is not indexed.</param>
public sealed record ObjectHit(
    string Id,
    double Score,
    string Bucket,
    string Key,
    string Version,
    double Size,
    DateTimeOffset Modified,
    bool Deleted,
    string? IndexedContent);

/// <summary>What a package search found (Quilt's <c>PackagesSearchResultSet</c>); <see cref="Total"/> counts every hit.</summary>
public sealed record PackageSearchResults(long Total, PackageSearchStats Stats, SearchPage<PackageHit> FirstPage);

/// <summary>What an object search found (Quilt's <c>ObjectsSearchResultSet</c>); <see cref="Total"/> counts every hit.</summary>
public sealed record ObjectSearchResults(long Total, ObjectSearchStats Stats, SearchPage<ObjectHit> FirstPage);

/// <summary>
/// What a caller may see, applied inside the query (so totals, facets and pages count only what is visible): the
/// buckets, and per bucket the key prefixes whose objects are visible (null: the whole bucket) and whether its
/// packages are.
/// </summary>
public sealed record SearchScope(IReadOnlyList<BucketScope> Buckets)
{
    /// <summary>Every named bucket whole: a server that may read them all (local folder, S3 credentials).</summary>
    public static SearchScope Whole(IEnumerable<string> buckets) =>
        new([.. buckets.Select(bucket => new BucketScope(bucket, KeyPrefixes: null, Packages: true))]);
}

/// <summary>One bucket of a <see cref="SearchScope"/>.</summary>
/// <param name="KeyPrefixes">The key prefixes whose objects are visible; null means every key.</param>
/// <param name="Packages">Whether the bucket's packages are visible.</param>
public sealed record BucketScope(string Bucket, IReadOnlyList<string>? KeyPrefixes, bool Packages);

/// <summary>
/// Answers the four searches. Implemented by the embedded index (local folder, S3), by the registry server's GraphQL
/// (registry mode) and, inside the gateway, over its own index. Bad input (a query that does not parse, an unknown
/// field, a predicate of the wrong type, a cursor from elsewhere) throws <see cref="SearchQueryException"/>.
/// </summary>
public interface ISearchService
{
    /// <summary>Searches package revisions.</summary>
    Task<PackageSearchResults> SearchPackagesAsync(PackageSearchRequest request, CancellationToken cancellationToken);

    /// <summary>The page after the one a cursor came with (Quilt's <c>searchMorePackages</c>).</summary>
    Task<SearchPage<PackageHit>> MorePackagesAsync(string cursor, int size, CancellationToken cancellationToken);

    /// <summary>Searches objects.</summary>
    Task<ObjectSearchResults> SearchObjectsAsync(ObjectSearchRequest request, CancellationToken cancellationToken);

    /// <summary>The page after the one a cursor came with (Quilt's <c>searchMoreObjects</c>).</summary>
    Task<SearchPage<ObjectHit>> MoreObjectsAsync(string cursor, int size, CancellationToken cancellationToken);
}

/// <summary>A search that cannot run as asked; the message names the problem and what to do (Quilt's <c>InvalidInput</c>).</summary>
public sealed class SearchQueryException : Exception
{
    /// <summary>Creates the error.</summary>
    public SearchQueryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error.</summary>
    public SearchQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the error.</summary>
    public SearchQueryException()
    {
    }

    /// <summary>The argument or field at fault (<c>searchString</c>, <c>filter.size</c>, <c>userMetaFilters[0]</c>), if known.</summary>
    public string? Field { get; init; }
}
