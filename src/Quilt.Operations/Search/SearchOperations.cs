using System.Globalization;
using System.Text.Json;
using Quilt.Core;
using Quilt.Search;
using Quilt.Search.Indexing;
using Quilt.Search.Sqlite;
using Quilt.Storage;

namespace Quilt.Operations.Search;

/// <summary>
/// Package and object search for every front end: a flat input checked once into Quilt's search contract, run by the
/// <see cref="ISearchService"/> the connection calls for (the embedded index for a local folder or S3; the registry
/// server's search in registry mode), and hits with a ready URI and where they matched.
/// </summary>
public sealed class SearchOperations
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    /// <summary>Buckets a local folder search covers by default, at most (its folders, in order).</summary>
    public const int MaxDefaultBuckets = 50;

    private const int SnippetChars = 200;

    private readonly Lazy<Task<ISearchService>> _service;

    /// <param name="service">Opens the search service on first use (an index file may need building).</param>
    public SearchOperations(Func<Task<ISearchService>> service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = new Lazy<Task<ISearchService>>(service);
    }

    /// <summary>
    /// The seam where the connection picks its search: registry mode gets <paramref name="registrySearch"/> (the registry
    /// server's own search, when wired), a local folder or S3 the embedded index in <paramref name="search"/>'s folder.
    /// </summary>
    public static SearchOperations Create(StoreConnection connection, OperationSettings settings, SearchSettings search,
        Func<StoreConnection, ISearchService>? registrySearch = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(search);
        if (settings.IsRegistryMode)
        {
            // The registry server's own search (Quilt's GraphQL: Elasticsearch behind a Quilt stack, the gateway's index).
            registrySearch ??= static c => c.Store is Quilt.Registry.RegistryApiObjectStore registry
                ? new Quilt.Registry.RegistrySearchService(registry.Client)
                : throw new OperationException("Search in registry mode needs the registry server's store; connect with --registry-url.");
            return new SearchOperations(() => Task.FromResult(registrySearch(connection)));
        }
        var policy = new BucketAccessPolicy(settings);
        return new SearchOperations(async () =>
        {
            var index = await SqliteSearchIndex.OpenAsync(search.IndexFile(settings.Storage)).ConfigureAwait(false);
            var indexer = new StoreIndexer(index, connection.Store);
            return new EmbeddedSearchService(indexer, (requested, ct) => ResolveBucketsAsync(connection.Store, policy, settings, requested, ct), search.MaxAge);
        });
    }

    /// <summary>The buckets a search covers: those asked for (each one the server may read), else the server's own set.</summary>
    private static async Task<IReadOnlyList<string>> ResolveBucketsAsync(IObjectStore store, BucketAccessPolicy policy, OperationSettings settings,
        IReadOnlyList<string> requested, CancellationToken cancellationToken)
    {
        if (requested.Count > 0)
        {
            foreach (var bucket in requested)
            {
                if (ObjectNames.BucketError(bucket) is { } error)
                    throw new OperationException($"buckets: {error}");
                policy.EnsureCanRead(bucket, "buckets");
            }
            return [.. requested.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        }
        if (policy.AllowedBuckets.Count > 0)
            return [.. policy.AllowedBuckets.Order(StringComparer.Ordinal)];
        if (settings.DefaultRegistry is { Length: > 0 } registry)
            return [registry];
        if (store.Scheme == "file")
        {
            var buckets = await store.ListBucketsAsync(cancellationToken).ConfigureAwait(false);
            return [.. buckets.Select(b => b.Name).Order(StringComparer.Ordinal).Take(MaxDefaultBuckets)];
        }
        throw new OperationException("Name the buckets to search (buckets: [\"my-bucket\"]): this server may read any bucket, so it has no default set to search.");
    }

    /// <summary>Searches package revisions; with a cursor, the next page of the search it came from.</summary>
    public async Task<PackageSearchResult> SearchPackagesAsync(PackageSearchInput input, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var size = PageSize(input.PageSize);
        try
        {
            var service = await _service.Value.ConfigureAwait(false);
            if (input.Cursor is { Length: > 0 } cursor)
            {
                var more = await service.MorePackagesAsync(cursor, size, cancellationToken).ConfigureAwait(false);
                return new PackageSearchResult(null, [.. more.Hits.Select(ToHit)], more.Cursor, null);
            }
            var request = new PackageSearchRequest(
                Buckets: input.Buckets ?? [],
                SearchString: input.Query,
                Filter: new PackageSearchFilter(
                    Modified: Dates(input.ModifiedAfter, input.ModifiedBefore),
                    Size: Numbers(input.SizeMin, input.SizeMax),
                    Name: Keyword(input.Name),
                    Workflow: Keyword(input.Workflow)),
                UserMetaFilters: input.Metadata?.Select((filter, i) => Predicate(filter, i)).ToList(),
                LatestOnly: input.LatestOnly,
                Size: size,
                Order: Order(input.Order));
            await PrepareAsync(service, request.Buckets, progress, cancellationToken).ConfigureAwait(false);
            var results = await service.SearchPackagesAsync(request, cancellationToken).ConfigureAwait(false);
            return new PackageSearchResult(results.Total, [.. results.FirstPage.Hits.Select(ToHit)], results.FirstPage.Cursor, Facets(results.Stats));
        }
        catch (SearchQueryException e)
        {
            throw new OperationException(Named(e), e);
        }
    }

    /// <summary>Searches objects; with a cursor, the next page of the search it came from.</summary>
    public async Task<ObjectSearchResult> SearchObjectsAsync(ObjectSearchInput input, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var size = PageSize(input.PageSize);
        try
        {
            var service = await _service.Value.ConfigureAwait(false);
            if (input.Cursor is { Length: > 0 } cursor)
            {
                var more = await service.MoreObjectsAsync(cursor, size, cancellationToken).ConfigureAwait(false);
                return new ObjectSearchResult(null, [.. more.Hits.Select(ToHit)], more.Cursor, null);
            }
            var request = new ObjectSearchRequest(
                Buckets: input.Buckets ?? [],
                SearchString: input.Query,
                Filter: new ObjectSearchFilter(
                    Modified: Dates(input.ModifiedAfter, input.ModifiedBefore),
                    Size: Numbers(input.SizeMin, input.SizeMax),
                    Ext: input.Extensions is { Count: > 0 } extensions ? new KeywordMatch(extensions) : null,
                    Key: Keyword(input.Key)),
                Size: size,
                Order: Order(input.Order));
            await PrepareAsync(service, request.Buckets, progress, cancellationToken).ConfigureAwait(false);
            var results = await service.SearchObjectsAsync(request, cancellationToken).ConfigureAwait(false);
            var stats = results.Stats;
            return new ObjectSearchResult(results.Total, [.. results.FirstPage.Hits.Select(ToHit)], results.FirstPage.Cursor,
                new ObjectFacets(stats.Modified?.Min, stats.Modified?.Max, (long?)stats.Size?.Min, (long?)stats.Size?.Max, stats.Extensions));
        }
        catch (SearchQueryException e)
        {
            throw new OperationException(Named(e), e);
        }
    }

    private static string Named(SearchQueryException e) =>
        e.Field is { } field && !e.Message.StartsWith(field, StringComparison.Ordinal) ? $"{Argument(field)}: {e.Message}" : e.Message;

    // The contract's field names, in this input's words.
    private static string Argument(string field) => field switch
    {
        "searchString" => "query",
        "size" => "pageSize",
        "filter.size" => "sizeMin/sizeMax",
        "filter.modified" => "modifiedAfter/modifiedBefore",
        "filter.name" => "name",
        "filter.key" => "key",
        "filter.ext" => "extensions",
        "filter.workflow" => "workflow",
        _ when field.StartsWith("userMetaFilters", StringComparison.Ordinal) => "metadata" + field["userMetaFilters".Length..],
        _ => field,
    };

    /// <summary>The embedded index refreshes the buckets first (building it on first use), reporting progress.</summary>
    private static async Task PrepareAsync(ISearchService service, IReadOnlyList<string> buckets, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        if (service is not EmbeddedSearchService embedded)
            return;
        var throttle = progress is null ? null : new ProgressThrottle(progress);
        var adapter = throttle is null ? null : new Progress(throttle);
        await embedded.PrepareAsync(buckets, adapter, cancellationToken).ConfigureAwait(false);
    }

    private sealed class Progress(ProgressThrottle throttle) : IProgress<IndexingProgress>
    {
        public void Report(IndexingProgress value)
        {
            var update = new ProgressUpdate(value.Done, value.Total, value.Message);
            if (value.Total is not null)
                throttle.Complete(update);
            else
                throttle.Report(update);
        }
    }

    private static int PageSize(int size) => size is >= 1 and <= MaxPageSize
        ? size
        : throw new OperationException($"pageSize {size} is out of range; give 1 to {MaxPageSize}.");

    private static SearchOrder Order(string? order) => order?.Trim().ToUpperInvariant().Replace('-', '_') switch
    {
        null or "" or "BEST_MATCH" or "BESTMATCH" => SearchOrder.BestMatch,
        "NEWEST" => SearchOrder.Newest,
        "OLDEST" => SearchOrder.Oldest,
        "LEX_ASC" or "LEXASC" => SearchOrder.LexAsc,
        "LEX_DESC" or "LEXDESC" => SearchOrder.LexDesc,
        _ => throw new OperationException($"order '{order}' is not one of BEST_MATCH, NEWEST, OLDEST, LEX_ASC, LEX_DESC."),
    };

    private static DateRange? Dates(DateTimeOffset? after, DateTimeOffset? before) => after is null && before is null ? null : new DateRange(after, before);

    private static NumberRange? Numbers(long? min, long? max) => min is null && max is null ? null : new NumberRange(min, max);

    /// <summary>An exact value, or a wildcard when it has <c>*</c> or <c>?</c>.</summary>
    private static KeywordMatch? Keyword(string? value) => string.IsNullOrEmpty(value)
        ? null
        : value.Contains('*', StringComparison.Ordinal) || value.Contains('?', StringComparison.Ordinal) ? new KeywordMatch(Wildcard: value) : new KeywordMatch([value]);

    private static UserMetaPredicate Predicate(MetadataFilter filter, int index)
    {
        var name = $"metadata[{index}]";
        var path = filter.Path?.Trim() ?? "";
        var type = filter.Type?.Trim().ToLowerInvariant() switch
        {
            null or "" => Infer(filter),
            "number" => MetaFieldType.Number,
            "datetime" or "date" => MetaFieldType.Datetime,
            "keyword" => MetaFieldType.Keyword,
            "text" => MetaFieldType.Text,
            "boolean" or "bool" => MetaFieldType.Boolean,
            var other => throw new OperationException($"{name}: type '{other}' is not one of number, datetime, keyword, text, boolean."),
        };
        var hasRange = filter.Gte is not null || filter.Lte is not null;
        var hasKeyword = filter.Terms is { Count: > 0 } || !string.IsNullOrEmpty(filter.Wildcard);
        var set = new[] { hasRange, hasKeyword, filter.Text is not null, filter.Value is not null }.Count(x => x);
        if (set > 1)
            throw new OperationException($"{name} ({path}): give one kind of condition: gte/lte, terms/wildcard, text, or value.");
        return type switch
        {
            MetaFieldType.Number => new UserMetaPredicate(path, type, Number: hasRange ? new NumberRange(Number(filter.Gte, name, "gte"), Number(filter.Lte, name, "lte")) : Missing<NumberRange>(name, path, "gte and/or lte (numbers)")),
            MetaFieldType.Datetime => new UserMetaPredicate(path, type, Datetime: hasRange ? new DateRange(Date(filter.Gte, name, "gte"), Date(filter.Lte, name, "lte")) : Missing<DateRange>(name, path, "gte and/or lte (ISO dates)")),
            MetaFieldType.Keyword => new UserMetaPredicate(path, type, Keyword: hasKeyword ? new KeywordMatch(filter.Terms, filter.Wildcard) : Missing<KeywordMatch>(name, path, "terms or a wildcard")),
            MetaFieldType.Text => new UserMetaPredicate(path, type, Text: filter.Text is { } text ? new TextMatch(text) : Missing<TextMatch>(name, path, "text")),
            _ => new UserMetaPredicate(path, type, Boolean: filter.Value is { } value ? new BooleanMatch(True: value ? true : null, False: value ? null : true) : Missing<BooleanMatch>(name, path, "value (true or false)")),
        };

        static MetaFieldType Infer(MetadataFilter filter)
        {
            if (filter.Value is not null)
                return MetaFieldType.Boolean;
            if (filter.Text is not null)
                return MetaFieldType.Text;
            if (filter.Gte is { ValueKind: JsonValueKind.String } || filter.Lte is { ValueKind: JsonValueKind.String })
                return MetaFieldType.Datetime;
            if (filter.Gte is not null || filter.Lte is not null)
                return MetaFieldType.Number;
            return MetaFieldType.Keyword;
        }
    }

    private static T Missing<T>(string name, string path, string what) where T : class =>
        throw new OperationException($"{name} ({path}): this type needs {what}.");

    private static double? Number(JsonElement? value, string name, string bound) => value switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.Number } number => number.GetDouble(),
        { ValueKind: JsonValueKind.String } text when double.TryParse(text.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw new OperationException($"{name}: {bound} {value.Value.GetRawText()} is not a number."),
    };

    private static DateTimeOffset? Date(JsonElement? value, string name, string bound) => value switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } text when MetaDates.TryParse(text.GetString()!, out var date) => date,
        _ => throw new OperationException($"{name}: {bound} {value.Value.GetRawText()} is not an ISO 8601 date (2024-03-01 or 2024-03-01T12:00:00Z)."),
    };

    private static PackageSearchHit ToHit(PackageHit hit)
    {
        var matched = new List<string>();
        if (hit.MatchLocations.Name) matched.Add("name");
        if (hit.MatchLocations.Comment) matched.Add("message");
        if (hit.MatchLocations.Meta) matched.Add("metadata");
        if (hit.MatchLocations.Workflow) matched.Add("workflow");
        if (hit.MatchingEntries.Count > 0) matched.Add("entries");
        var uri = new QuiltUri { Bucket = hit.Bucket, PackageName = hit.Name, TopHash = hit.Hash };
        return new PackageSearchHit(uri.ToString(), hit.Name, hit.Pointer == "latest", hit.Modified, (long)hit.Size, hit.Comment, matched,
            hit.MatchingEntries.Count == 0 ? null : [.. hit.MatchingEntries.Select(e => e.LogicalKey)]);
    }

    private static ObjectSearchHit ToHit(ObjectHit hit) =>
        new(ObjectUriResolver.FormatUri(new ObjectRef(hit.Bucket, hit.Key, hit.Version is { Length: > 0 } version ? version : null)), (long)hit.Size, hit.Modified,
            hit.IndexedContent is { } text ? (text.Length > SnippetChars ? text[..SnippetChars] : text) : null);

    private static PackageFacets Facets(PackageSearchStats stats) => new(
        stats.Modified?.Min, stats.Modified?.Max, (long?)stats.Size?.Min, (long?)stats.Size?.Max, stats.Workflows,
        [.. stats.UserMeta.Select(facet => new MetadataFacet(facet.Path, facet.Type.ToString().ToLowerInvariant(),
            facet.Number is { } n ? Format(n.Min) : facet.Datetime is { } d ? d.Min.ToString("O", CultureInfo.InvariantCulture) : null,
            facet.Number is { } n2 ? Format(n2.Max) : facet.Datetime is { } d2 ? d2.Max.ToString("O", CultureInfo.InvariantCulture) : null,
            facet.Keywords))],
        stats.UserMetaTruncated, stats.UserMetaSample);

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
