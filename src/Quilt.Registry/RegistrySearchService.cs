using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Search;

namespace Quilt.Registry;

/// <summary>
/// Registry mode's search: Quilt's own searchPackages / searchObjects / searchMorePackages / searchMoreObjects
/// (<see cref="RegistryOperations"/>), so it is answered unchanged by a Quilt stack's Elasticsearch or by
/// quilt-gateway's index. The registry applies the caller's rights; cursors are the registry's own, passed back as
/// they came. InvalidInput becomes <see cref="SearchQueryException"/> (the registry's message, naming the argument);
/// OperationError a <see cref="RegistryException"/>; EmptySearchResultSet (nothing to search) zero hits.
/// </summary>
public sealed class RegistrySearchService(RegistryApiClient client) : ISearchService
{
    private static readonly PackageSearchStats NoPackageStats = new(null, null, null, [], [], false);
    private static readonly ObjectSearchStats NoObjectStats = new(null, null, []);

    /// <inheritdoc />
    public async Task<PackageSearchResults> SearchPackagesAsync(PackageSearchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var variables = new JsonObject
        {
            ["buckets"] = Buckets(request.Buckets),
            ["searchString"] = request.SearchString,
            ["filter"] = PackageFilter(request.Filter),
            ["userMetaFilters"] = UserMetaFilters(request.UserMetaFilters),
            ["latestOnly"] = request.LatestOnly,
            ["size"] = request.Size,
            ["ordering"] = PackageOrdering(request.Order),
        };
        const string Operation = "search packages";
        var data = await client.ExecuteAsync(RegistryOperations.SearchPackages, variables, Operation, cancellationToken).ConfigureAwait(false);
        var result = Arm(data["searchPackages"], Operation, "PackagesSearchResultSet", "EmptySearchResultSet");
        if (result is null)
            return new PackageSearchResults(0, NoPackageStats, new SearchPage<PackageHit>([], null));
        var page = Arm(result["firstPage"], Operation, "PackagesSearchResultSetPage")!;
        return new PackageSearchResults(Long(result["total"]), PackageStats(result["stats"] as JsonObject), PackagePage(page));
    }

    /// <inheritdoc />
    public async Task<SearchPage<PackageHit>> MorePackagesAsync(string cursor, int size, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(cursor);
        const string Operation = "get more package search results";
        var data = await client.ExecuteAsync(RegistryOperations.SearchMorePackages, new JsonObject { ["after"] = cursor, ["size"] = size },
            Operation, cancellationToken).ConfigureAwait(false);
        return PackagePage(Arm(data["searchMorePackages"], Operation, "PackagesSearchResultSetPage")!);
    }

    /// <inheritdoc />
    public async Task<ObjectSearchResults> SearchObjectsAsync(ObjectSearchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var variables = new JsonObject
        {
            ["buckets"] = Buckets(request.Buckets),
            ["searchString"] = request.SearchString,
            ["filter"] = ObjectFilter(request.Filter),
            ["size"] = request.Size,
            ["order"] = ObjectOrder(request.Order),
        };
        const string Operation = "search objects";
        var data = await client.ExecuteAsync(RegistryOperations.SearchObjects, variables, Operation, cancellationToken).ConfigureAwait(false);
        var result = Arm(data["searchObjects"], Operation, "ObjectsSearchResultSet", "EmptySearchResultSet");
        if (result is null)
            return new ObjectSearchResults(0, NoObjectStats, new SearchPage<ObjectHit>([], null));
        var stats = result["stats"] as JsonObject;
        return new ObjectSearchResults(Long(result["total"]),
            new ObjectSearchStats(DateExtentsOf(stats?["modified"]), NumberExtentsOf(stats?["size"]), Strings(stats?["ext"]?["values"])),
            ObjectPage((result["firstPage"] as JsonObject)!));
    }

    /// <inheritdoc />
    public async Task<SearchPage<ObjectHit>> MoreObjectsAsync(string cursor, int size, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(cursor);
        const string Operation = "get more object search results";
        var data = await client.ExecuteAsync(RegistryOperations.SearchMoreObjects, new JsonObject { ["after"] = cursor, ["size"] = size },
            Operation, cancellationToken).ConfigureAwait(false);
        return ObjectPage(Arm(data["searchMoreObjects"], Operation, "ObjectsSearchResultSetPage")!);
    }

    /// <summary>Quilt's <c>PackageOrdering</c> expression for an order; null is relevance.</summary>
    public static string? PackageOrdering(SearchOrder order) => order switch
    {
        SearchOrder.BestMatch => null,
        SearchOrder.Newest => "sys:modified:desc",
        SearchOrder.Oldest => "sys:modified:asc",
        SearchOrder.LexAsc => "sys:name:asc",
        SearchOrder.LexDesc => "sys:name:desc",
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown search order."),
    };

    /// <summary>Quilt's <c>SearchResultOrder</c> value (objects' <c>firstPage(order:)</c>).</summary>
    public static string ObjectOrder(SearchOrder order) => order switch
    {
        SearchOrder.BestMatch => "BEST_MATCH",
        SearchOrder.Newest => "NEWEST",
        SearchOrder.Oldest => "OLDEST",
        SearchOrder.LexAsc => "LEX_ASC",
        SearchOrder.LexDesc => "LEX_DESC",
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown search order."),
    };

    /// <summary>The result's arm when it is one of <paramref name="accepted"/> (null for EmptySearchResultSet), else the error it reports.</summary>
    private JsonObject? Arm(JsonNode? node, string operation, params string[] accepted)
    {
        if (node is not JsonObject result)
            throw new RegistryException($"The registry at {client.BaseUrl} answered nothing to {operation}. Try again later.");
        var typename = Text(result["__typename"]);
        if (typename == "EmptySearchResultSet")
            return null;
        if (typename is not null && accepted.Contains(typename, StringComparer.Ordinal))
            return result;
        switch (typename)
        {
            case "InvalidInput":
            {
                var errors = (result["errors"] as JsonArray ?? []).OfType<JsonObject>().ToList();
                var message = errors.Count == 0
                    ? "the registry refused the search as invalid"
                    : string.Join("; ", errors.Select(e => Text(e["message"]) ?? Text(e["name"]) ?? "invalid input"));
                throw new SearchQueryException($"The registry refused to {operation}: {message}")
                {
                    Field = errors.Count == 0 ? null : Text(errors[0]["path"]) ?? Text(errors[0]["name"]),
                };
            }
            case "OperationError":
                throw new RegistryException(
                    $"The registry could not {operation}: {Text(result["message"]) ?? "unknown error"} ({Text(result["name"]) ?? "OperationError"}). Try again later, or narrow the search.");
            default:
                throw new RegistryException($"The registry answered {operation} with an unexpected {typename ?? "result"}.");
        }
    }

    private static JsonArray? Buckets(IReadOnlyList<string> buckets) =>
        buckets.Count == 0 ? null : new JsonArray([.. buckets.Select(b => (JsonNode)JsonValue.Create(b))]);

    private static JsonObject? PackageFilter(PackageSearchFilter? filter)
    {
        if (filter is null)
            return null;
        var json = new JsonObject();
        Add(json, "modified", Date(filter.Modified));
        Add(json, "size", Number(filter.Size));
        Add(json, "name", Keyword(filter.Name));
        Add(json, "hash", Keyword(filter.Hash));
        Add(json, "entries", Number(filter.Entries));
        Add(json, "comment", Text(filter.Comment));
        Add(json, "workflow", Keyword(filter.Workflow));
        return json.Count == 0 ? null : json;
    }

    private static JsonObject? ObjectFilter(ObjectSearchFilter? filter)
    {
        if (filter is null)
            return null;
        var json = new JsonObject();
        Add(json, "modified", Date(filter.Modified));
        Add(json, "size", Number(filter.Size));
        Add(json, "ext", Keyword(filter.Ext));
        Add(json, "key", Keyword(filter.Key));
        Add(json, "content", Text(filter.Content));
        Add(json, "deleted", Boolean(filter.Deleted));
        return json.Count == 0 ? null : json;
    }

    private static JsonArray? UserMetaFilters(IReadOnlyList<UserMetaPredicate>? predicates)
    {
        if (predicates is null || predicates.Count == 0)
            return null;
        var list = new JsonArray();
        foreach (var p in predicates)
        {
            // Quilt's PackageUserMetaPredicate: the path and exactly one predicate, whose member names the type.
            var json = new JsonObject { ["path"] = p.Path };
            switch (p.Type)
            {
                case MetaFieldType.Number:
                    json["number"] = Number(p.Number) ?? new JsonObject();
                    break;
                case MetaFieldType.Datetime:
                    json["datetime"] = Date(p.Datetime) ?? new JsonObject();
                    break;
                case MetaFieldType.Keyword:
                    json["keyword"] = Keyword(p.Keyword) ?? new JsonObject();
                    break;
                case MetaFieldType.Text:
                    json["text"] = Text(p.Text) ?? throw new SearchQueryException($"The text filter on metadata {p.Path} has no query string.") { Field = "userMetaFilters" };
                    break;
                case MetaFieldType.Boolean:
                    json["boolean"] = Boolean(p.Boolean) ?? new JsonObject();
                    break;
            }
            list.Add((JsonNode)json);
        }
        return list;
    }

    private static void Add(JsonObject json, string name, JsonObject? value)
    {
        if (value is not null)
            json[name] = value;
    }

    private static JsonObject? Date(DateRange? range) => range is null ? null : new JsonObject
    {
        ["gte"] = range.Gte?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        ["lte"] = range.Lte?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
    };

    private static JsonObject? Number(NumberRange? range) => range is null ? null : new JsonObject { ["gte"] = range.Gte, ["lte"] = range.Lte };

    private static JsonObject? Keyword(KeywordMatch? match) => match is null ? null : new JsonObject
    {
        ["terms"] = match.Terms is null ? null : new JsonArray([.. match.Terms.Select(t => (JsonNode)JsonValue.Create(t))]),
        ["wildcard"] = match.Wildcard,
    };

    private static JsonObject? Text(TextMatch? match) => match is null ? null : new JsonObject { ["queryString"] = match.QueryString };

    private static JsonObject? Boolean(BooleanMatch? match) => match is null ? null : new JsonObject { ["true"] = match.True, ["false"] = match.False };

    private static PackageSearchStats PackageStats(JsonObject? stats)
    {
        if (stats is null)
            return NoPackageStats;
        var facets = new List<UserMetaFacet>();
        foreach (var facet in (stats["userMeta"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var path = Text(facet["path"]) ?? "";
            var sortable = facet["sortable"]?.GetValueKind() == JsonValueKind.True;
            facets.Add(Text(facet["__typename"]) switch
            {
                "NumberPackageUserMetaFacet" => new UserMetaFacet(path, MetaFieldType.Number, sortable, Number: NumberExtentsOf(facet["numberExtents"])),
                "DatetimePackageUserMetaFacet" => new UserMetaFacet(path, MetaFieldType.Datetime, sortable, Datetime: DateExtentsOf(facet["datetimeExtents"])),
                "KeywordPackageUserMetaFacet" => new UserMetaFacet(path, MetaFieldType.Keyword, sortable, Keywords: Strings(facet["keywordExtents"]?["values"])),
                "BooleanPackageUserMetaFacet" => new UserMetaFacet(path, MetaFieldType.Boolean, sortable),
                _ => new UserMetaFacet(path, MetaFieldType.Text, sortable),
            });
        }
        return new PackageSearchStats(DateExtentsOf(stats["modified"]), NumberExtentsOf(stats["size"]), NumberExtentsOf(stats["entries"]),
            Strings(stats["workflow"]?["values"]), facets, stats["userMetaTruncated"]?.GetValueKind() == JsonValueKind.True);
    }

    private static SearchPage<PackageHit> PackagePage(JsonObject page) =>
        new([.. (page["hits"] as JsonArray ?? []).OfType<JsonObject>().Select(PackageHitOf)], Text(page["cursor"]));

    private static SearchPage<ObjectHit> ObjectPage(JsonObject page) =>
        new([.. (page["hits"] as JsonArray ?? []).OfType<JsonObject>().Select(ObjectHitOf)], Text(page["cursor"]));

    private static PackageHit PackageHitOf(JsonObject hit)
    {
        var locations = hit["matchLocations"] as JsonObject;
        return new PackageHit(
            Text(hit["id"]) ?? "", Double(hit["score"]), Text(hit["bucket"]) ?? "", Text(hit["name"]) ?? "", Text(hit["pointer"]) ?? "",
            Text(hit["hash"]) ?? "", Double(hit["size"]), Time(hit["modified"]), (int)Long(hit["totalEntriesCount"]),
            Text(hit["comment"]), Text(hit["meta"]), Element(hit["workflow"]),
            new PackageMatchLocations(True(locations?["name"]), True(locations?["comment"]), True(locations?["meta"]), True(locations?["workflow"])),
            [.. (hit["matchingEntries"] as JsonArray ?? []).OfType<JsonObject>().Select(e =>
            {
                var at = e["matchLocations"] as JsonObject;
                return new PackageMatchingEntry(Text(e["logicalKey"]) ?? "", Text(e["physicalKey"]) ?? "", Double(e["size"]), Text(e["meta"]),
                    new EntryMatchLocations(True(at?["logicalKey"]), True(at?["physicalKey"]), True(at?["meta"]), True(at?["contents"])));
            })]);
    }

    private static ObjectHit ObjectHitOf(JsonObject hit) => new(
        Text(hit["id"]) ?? "", Double(hit["score"]), Text(hit["bucket"]) ?? "", Text(hit["key"]) ?? "", Text(hit["version"]) ?? "",
        Double(hit["size"]), Time(hit["modified"]), True(hit["deleted"]), Text(hit["indexedContent"]));

    private static DateExtents? DateExtentsOf(JsonNode? node) =>
        node is JsonObject o && o["min"] is not null && o["max"] is not null ? new DateExtents(Time(o["min"]), Time(o["max"])) : null;

    private static NumberExtents? NumberExtentsOf(JsonNode? node) =>
        node is JsonObject o && o["min"] is not null && o["max"] is not null ? new NumberExtents(Double(o["min"]), Double(o["max"])) : null;

    private static string[] Strings(JsonNode? node) =>
        [.. (node as JsonArray ?? []).Select(Text).OfType<string>()];

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static bool True(JsonNode? node) => node?.GetValueKind() == JsonValueKind.True;

    private static double Double(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : 0;

    private static long Long(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? (long)v.GetValue<double>() : 0;

    private static DateTimeOffset Time(JsonNode? node) =>
        Text(node) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : DateTimeOffset.UnixEpoch;

    private static JsonElement? Element(JsonNode? node)
    {
        if (node is null || node.GetValueKind() == JsonValueKind.Null)
            return null;
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }
}
