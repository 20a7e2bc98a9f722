using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQL;
using GraphQL.Resolvers;
using GraphQL.Types;
using GraphQL.Utilities;
using GraphQLParser.AST;
using Microsoft.Extensions.DependencyInjection;
using Quilt.Gateway.Services;
using Quilt.Search;

namespace Quilt.Gateway.GraphQL;

// The objects the search types resolve to (hits, pages and extents resolve to Quilt.Search's records directly).

public sealed record EmptySearchResultSetModel;

public sealed record KeywordExtentsModel(IReadOnlyList<string> Values);

public sealed record PackagesSearchStatsModel(
    DateExtents Modified, NumberExtents Size, NumberExtents Entries, KeywordExtentsModel Workflow, IReadOnlyList<object> UserMeta, bool UserMetaTruncated);

/// <summary>A package search's results; <c>firstPage</c> with other arguments than the ones it ran with runs again.</summary>
public sealed record PackagesSearchResultSetModel(
    long Total, PackagesSearchStatsModel Stats, PackageSearchRequest Request, SearchPage<PackageHit> Page, Caller Caller);

public sealed record ObjectsSearchStatsModel(DateExtents Modified, NumberExtents Size, KeywordExtentsModel Ext);

public sealed record ObjectsSearchResultSetModel(long Total, ObjectsSearchStatsModel Stats, ObjectSearchRequest Request, SearchPage<ObjectHit> Page, Caller Caller);

public sealed record PackagesPageModel(string? Cursor, IReadOnlyList<PackageHit> Hits);

public sealed record ObjectsPageModel(string? Cursor, IReadOnlyList<ObjectHit> Hits);

public sealed record NumberFacetModel(string Path, bool Sortable, NumberExtents Extents);

public sealed record DatetimeFacetModel(string Path, bool Sortable, DateExtents Extents);

public sealed record KeywordFacetModel(string Path, bool Sortable, KeywordExtentsModel Extents);

public sealed record TextFacetModel(string Path, bool Sortable);

public sealed record BooleanFacetModel(string Path, bool Sortable);

/// <summary>
/// Quilt's PackageOrdering: passed through as given (a string, or anything else), so that firstPage can answer an
/// unparseable one with its InvalidInput arm, as Quilt's registry does, rather than a GraphQL error.
/// </summary>
public sealed class PackageOrderingGraphType : ScalarGraphType
{
    public PackageOrderingGraphType() => Name = "PackageOrdering";

    public override object? Serialize(object? value) => value?.ToString();

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        string s => s,
        _ => new NotAnOrdering(),
    };

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLNullValue => null,
        GraphQLStringValue s => (string)s.Value,
        _ => new NotAnOrdering(),
    };

    public override bool CanParseLiteral(GraphQLValue value) => true;

    public override bool CanParseValue(object? value) => true;

    /// <summary>A wire value that is not a string.</summary>
    public sealed record NotAnOrdering;
}

/// <summary>Resolvers of searchPackages, searchObjects, searchMorePackages and searchMoreObjects: GraphQL in, <see cref="SearchService"/>, GraphQL out.</summary>
public static class SearchResolvers
{
    private const int DefaultSize = 30;

    private static readonly DateExtents NoDates = new(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
    private static readonly NumberExtents NoNumbers = new(0, 0);

    public static void Configure(SchemaBuilder b)
    {
        ArgumentNullException.ThrowIfNull(b);
        b.Types.For("PackagesSearchResultSet").IsTypeOf<PackagesSearchResultSetModel>();
        b.Types.For("ObjectsSearchResultSet").IsTypeOf<ObjectsSearchResultSetModel>();
        b.Types.For("EmptySearchResultSet").IsTypeOf<EmptySearchResultSetModel>();
        b.Types.For("PackagesSearchResultSetPage").IsTypeOf<PackagesPageModel>();
        b.Types.For("ObjectsSearchResultSetPage").IsTypeOf<ObjectsPageModel>();
        b.Types.For("NumberPackageUserMetaFacet").IsTypeOf<NumberFacetModel>();
        b.Types.For("DatetimePackageUserMetaFacet").IsTypeOf<DatetimeFacetModel>();
        b.Types.For("KeywordPackageUserMetaFacet").IsTypeOf<KeywordFacetModel>();
        b.Types.For("TextPackageUserMetaFacet").IsTypeOf<TextFacetModel>();
        b.Types.For("BooleanPackageUserMetaFacet").IsTypeOf<BooleanFacetModel>();
        Resolve(b, "EmptySearchResultSet", "_", _ => null);
        Resolve(b, "SearchHitPackage", "workflow", ctx =>
            ((PackageHit)ctx.Source!).Workflow is { ValueKind: JsonValueKind.Object } w ? JsonNode.Parse(w.GetRawText()) : null);

        Resolve(b, "Query", "searchPackages", ctx => Union(async () =>
        {
            var request = PackageRequest(ctx);
            var (size, ordering) = FirstPageArguments(ctx, "ordering");
            // An ordering firstPage refuses: the totals and facets do not depend on it.
            var order = TryOrdering(ordering, out var parsed) ? parsed : SearchOrder.BestMatch;
            request = request with { Size = size, Order = order };
            var results = await Search(ctx).SearchPackagesAsync(Caller(ctx), request, ctx.CancellationToken);
            if (results.Total == 0)
                return new EmptySearchResultSetModel();
            var s = results.Stats;
            var stats = new PackagesSearchStatsModel(s.Modified ?? NoDates, s.Size ?? NoNumbers, s.Entries ?? NoNumbers, new KeywordExtentsModel(s.Workflows),
                [.. s.UserMeta.Select(Facet)], s.UserMetaTruncated);
            return new PackagesSearchResultSetModel(results.Total, stats, request, results.FirstPage, Caller(ctx));
        }));
        Resolve(b, "PackagesSearchResultSet", "firstPage", ctx => Union(async () =>
        {
            var set = (PackagesSearchResultSetModel)ctx.Source!;
            var size = ctx.GetArgument("size", DefaultSize);
            var order = Ordering(ctx.GetArgument<object?>("ordering"));
            if (size == set.Request.Size && order == set.Request.Order)
                return new PackagesPageModel(set.Page.Cursor, set.Page.Hits);
            var again = await Search(ctx).SearchPackagesAsync(set.Caller, set.Request with { Size = size, Order = order }, ctx.CancellationToken);
            return new PackagesPageModel(again.FirstPage.Cursor, again.FirstPage.Hits);
        }));
        Resolve(b, "Query", "searchMorePackages", ctx => Union(async () =>
        {
            var page = await Search(ctx).MorePackagesAsync(Caller(ctx), ctx.GetArgument<string>("after"), ctx.GetArgument("size", DefaultSize), ctx.CancellationToken);
            return new PackagesPageModel(page.Cursor, page.Hits);
        }));

        Resolve(b, "Query", "searchObjects", ctx => Union(async () =>
        {
            var request = ObjectRequest(ctx);
            var (size, order) = FirstPageArguments(ctx, "order");
            request = request with { Size = size, Order = ObjectOrder(order) };
            var results = await Search(ctx).SearchObjectsAsync(Caller(ctx), request, ctx.CancellationToken);
            if (results.Total == 0)
                return new EmptySearchResultSetModel();
            var s = results.Stats;
            return new ObjectsSearchResultSetModel(results.Total,
                new ObjectsSearchStatsModel(s.Modified ?? NoDates, s.Size ?? NoNumbers, new KeywordExtentsModel(s.Extensions)), request, results.FirstPage, Caller(ctx));
        }));
        Resolve(b, "ObjectsSearchResultSet", "firstPage", async ctx =>
        {
            // Not a union in Quilt's schema: bad arguments here are GraphQL errors.
            var set = (ObjectsSearchResultSetModel)ctx.Source!;
            var size = ctx.GetArgument("size", DefaultSize);
            var order = ObjectOrder(ctx.GetArgument<object?>("order"));
            if (size == set.Request.Size && order == set.Request.Order)
                return new ObjectsPageModel(set.Page.Cursor, set.Page.Hits);
            try
            {
                var again = await Search(ctx).SearchObjectsAsync(set.Caller, set.Request with { Size = size, Order = order }, ctx.CancellationToken);
                return new ObjectsPageModel(again.FirstPage.Cursor, again.FirstPage.Hits);
            }
            catch (GatewayException ex)
            {
                throw new ExecutionError(ex.Message) { Code = ex.Code };
            }
        });
        Resolve(b, "Query", "searchMoreObjects", ctx => Union(async () =>
        {
            var page = await Search(ctx).MoreObjectsAsync(Caller(ctx), ctx.GetArgument<string>("after"), ctx.GetArgument("size", DefaultSize), ctx.CancellationToken);
            return new ObjectsPageModel(page.Cursor, page.Hits);
        }));
    }

    // ---------------------------------------------------------------------------------------------- feeding

    /// <summary>Indexes an object the gateway just completed (a multipart upload).</summary>
    public static async Task ObjectWrittenAsync(IResolveFieldContext ctx, string bucket, string key)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (ctx.RequestServices?.GetService<SearchFeed>() is { } feed)
            await feed.IndexObjectAsync(bucket, key, ctx.CancellationToken);
    }

    /// <summary>Remembers an upload URL's object, to index once it arrives.</summary>
    public static void UploadUrlIssued(IResolveFieldContext ctx, string bucket, string key, DateTimeOffset expires)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.RequestServices?.GetService<SearchFeed>()?.UploadUrlIssued(bucket, key, expires);
    }

    private static SearchService Search(IResolveFieldContext ctx) => ctx.RequestServices!.GetRequiredService<SearchService>();

    private static Caller Caller(IResolveFieldContext ctx) => ((GatewayContext)ctx.UserContext).Caller;

    private static void Resolve(SchemaBuilder b, string type, string field, Func<IResolveFieldContext, ValueTask<object?>> resolver) =>
        b.Types.For(type).FieldFor(field).Resolver = new FuncFieldResolver<object>(resolver);

    private static void Resolve(SchemaBuilder b, string type, string field, Func<IResolveFieldContext, object?> resolver) =>
        b.Types.For(type).FieldFor(field).Resolver = new FuncFieldResolver<object>(resolver);

    /// <summary>Runs a search whose result is a union with InvalidInput/OperationError, turning expected failures into those.</summary>
    private static async ValueTask<object?> Union(Func<Task<object>> body)
    {
        try
        {
            return await body();
        }
        catch (UnsupportedSortException ex)
        {
            return new InvalidInputModel([new InputErrorModel("ordering", ex.Message, "UnsupportedSort")]);
        }
        catch (GatewayException ex) when (ex.Code == GatewayException.BadRequest)
        {
            return new InvalidInputModel([new InputErrorModel(ex.Path, ex.Message, ex.Path is "ordering" ? "ordering" : "InvalidInput")]);
        }
        catch (GatewayException ex)
        {
            return new OperationErrorModel(ex.Message, ex.Code == GatewayException.Forbidden ? "Forbidden" : "Unavailable");
        }
    }

    private static object Facet(UserMetaFacet facet) => facet.Type switch
    {
        MetaFieldType.Number => new NumberFacetModel(facet.Path, facet.Sortable, facet.Number ?? NoNumbers),
        MetaFieldType.Datetime => new DatetimeFacetModel(facet.Path, facet.Sortable, facet.Datetime ?? NoDates),
        MetaFieldType.Keyword => new KeywordFacetModel(facet.Path, facet.Sortable, new KeywordExtentsModel(facet.Keywords ?? [])),
        MetaFieldType.Boolean => new BooleanFacetModel(facet.Path, facet.Sortable),
        _ => new TextFacetModel(facet.Path, facet.Sortable),
    };

    // ---------------------------------------------------------------------------------------------- arguments

    private static PackageSearchRequest PackageRequest(IResolveFieldContext ctx)
    {
        var filter = ctx.GetArgument<Dictionary<string, object?>?>("filter");
        var predicates = ctx.GetArgument<List<object?>?>("userMetaFilters");
        return new PackageSearchRequest(
            Buckets(ctx),
            ctx.GetArgument<string?>("searchString"),
            filter is null ? null : new PackageSearchFilter(
                Dates(filter, "modified"), Numbers(filter, "size"), Keywords(filter, "name"), Keywords(filter, "hash"), Numbers(filter, "entries"),
                Text(filter, "comment"), Keywords(filter, "workflow")),
            predicates?.Select((p, i) => Predicate((Dictionary<string, object?>)p!, i)).ToList(),
            ctx.GetArgument("latestOnly", false));
    }

    private static ObjectSearchRequest ObjectRequest(IResolveFieldContext ctx)
    {
        var filter = ctx.GetArgument<Dictionary<string, object?>?>("filter");
        return new ObjectSearchRequest(
            Buckets(ctx),
            ctx.GetArgument<string?>("searchString"),
            filter is null ? null : new ObjectSearchFilter(
                Dates(filter, "modified"), Numbers(filter, "size"), Keywords(filter, "ext"), Keywords(filter, "key"), Text(filter, "content"),
                filter.GetValueOrDefault("deleted") is Dictionary<string, object?> d ? new BooleanMatch(d.GetValueOrDefault("true") as bool?, d.GetValueOrDefault("false") as bool?) : null));
    }

    private static List<string> Buckets(IResolveFieldContext ctx) =>
        ctx.GetArgument<List<object?>?>("buckets")?.Select(b => (string)b!).ToList() ?? [];

    private static UserMetaPredicate Predicate(Dictionary<string, object?> p, int i)
    {
        var path = (string)p["path"]!;
        // Quilt's predicate names its type by the member given; one member, else the index refuses it by name.
        var given = new[] { "number", "datetime", "keyword", "text", "boolean" }.Where(k => p.GetValueOrDefault(k) is not null).ToList();
        var type = given.Count == 0 ? MetaFieldType.Keyword : given[0] switch
        {
            "number" => MetaFieldType.Number,
            "datetime" => MetaFieldType.Datetime,
            "text" => MetaFieldType.Text,
            "boolean" => MetaFieldType.Boolean,
            _ => MetaFieldType.Keyword,
        };
        if (given.Count != 1)
        {
            throw GatewayException.Invalid(
                $"userMetaFilters[{i}] ({path}) gives {(given.Count == 0 ? "no predicate" : string.Join(" and ", given))}: give exactly one of number, datetime, keyword, text or boolean.",
                $"userMetaFilters[{i}]");
        }
        return new UserMetaPredicate(path, type, Numbers(p, "number"), Dates(p, "datetime"), Keywords(p, "keyword"), Text(p, "text"),
            p.GetValueOrDefault("boolean") is Dictionary<string, object?> b ? new BooleanMatch(b.GetValueOrDefault("true") as bool?, b.GetValueOrDefault("false") as bool?) : null);
    }

    private static DateRange? Dates(Dictionary<string, object?> o, string name) =>
        o.GetValueOrDefault(name) is Dictionary<string, object?> d ? new DateRange(d.GetValueOrDefault("gte") as DateTimeOffset?, d.GetValueOrDefault("lte") as DateTimeOffset?) : null;

    private static NumberRange? Numbers(Dictionary<string, object?> o, string name) =>
        o.GetValueOrDefault(name) is Dictionary<string, object?> d ? new NumberRange(Number(d.GetValueOrDefault("gte")), Number(d.GetValueOrDefault("lte"))) : null;

    private static double? Number(object? value) => value is null ? null : Convert.ToDouble(value, CultureInfo.InvariantCulture);

    private static KeywordMatch? Keywords(Dictionary<string, object?> o, string name) =>
        o.GetValueOrDefault(name) is Dictionary<string, object?> d
            ? new KeywordMatch((d.GetValueOrDefault("terms") as IEnumerable<object?>)?.Select(t => (string)t!).ToList(), d.GetValueOrDefault("wildcard") as string)
            : null;

    private static TextMatch? Text(Dictionary<string, object?> o, string name) =>
        o.GetValueOrDefault(name) is Dictionary<string, object?> d ? new TextMatch((string)d["queryString"]!) : null;

    /// <summary>
    /// The size and order arguments of the <c>firstPage</c> this search's selection asks for (the first one, through
    /// fragments), so that the search runs once with them: the result's arm (results, nothing, invalid input) must be
    /// known here, before firstPage resolves.
    /// </summary>
    private static (int Size, object? Order) FirstPageArguments(IResolveFieldContext ctx, string orderArgument)
    {
        var field = FindField(ctx, ctx.FieldAst.SelectionSet, "firstPage", 0);
        if (field?.Arguments is not { } arguments)
            return (DefaultSize, null);
        var size = DefaultSize;
        object? order = null;
        foreach (var argument in arguments.Items)
        {
            var value = argument.Value is GraphQLVariable variable ? ctx.Variables.ValueFor(variable.Name.StringValue, null!) : Literal(argument.Value);
            if (argument.Name.StringValue == "size" && value is not null)
                size = Convert.ToInt32(value, CultureInfo.InvariantCulture);
            else if (argument.Name.StringValue == orderArgument)
                order = value;
        }
        return (size, order);
    }

    private static object? Literal(GraphQLValue value) => value switch
    {
        GraphQLIntValue i => int.Parse(i.Value.Span, CultureInfo.InvariantCulture),
        GraphQLStringValue s => (string)s.Value,
        GraphQLEnumValue e => e.Name.StringValue,
        GraphQLNullValue => null,
        _ => new PackageOrderingGraphType.NotAnOrdering(),
    };

    private static GraphQLField? FindField(IResolveFieldContext ctx, GraphQLSelectionSet? set, string name, int depth)
    {
        if (set is null || depth > 8)
            return null;
        foreach (var selection in set.Selections)
        {
            switch (selection)
            {
                case GraphQLField f when f.Name.StringValue == name:
                    return f;
                case GraphQLInlineFragment inline when FindField(ctx, inline.SelectionSet, name, depth + 1) is { } found:
                    return found;
                case GraphQLFragmentSpread spread:
                    var definition = ctx.Document.Definitions.OfType<GraphQLFragmentDefinition>().FirstOrDefault(d => d.FragmentName.Name.StringValue == spread.FragmentName.Name.StringValue);
                    if (FindField(ctx, definition?.SelectionSet, name, depth + 1) is { } inFragment)
                        return inFragment;
                    break;
            }
        }
        return null;
    }

    private static bool TryOrdering(object? ordering, out SearchOrder order)
    {
        try
        {
            order = Ordering(ordering);
            return true;
        }
        catch (Exception ex) when (ex is GatewayException or UnsupportedSortException)
        {
            order = SearchOrder.BestMatch;
            return false;
        }
    }

    /// <summary>Quilt's PackageOrdering grammar; the gateway's index sorts by relevance, modified time and name.</summary>
    private static SearchOrder Ordering(object? ordering)
    {
        const string Grammar = "expression := \"sys:\" field \":\" dir | \"usr:\" pointer \":\" type \":\" dir; field := name | modified | size | entries | hash | workflow | comment; type := number | datetime | keyword | text | boolean; dir := asc | desc";
        switch (ordering)
        {
            case null:
                return SearchOrder.BestMatch;
            case string text:
                var parts = text.Split(':');
                if (parts is ["sys", var field, var dir] && dir is "asc" or "desc"
                    && field is "name" or "modified" or "size" or "entries" or "hash" or "workflow" or "comment")
                {
                    return (field, dir) switch
                    {
                        ("modified", "desc") => SearchOrder.Newest,
                        ("modified", "asc") => SearchOrder.Oldest,
                        ("name", "asc") => SearchOrder.LexAsc,
                        ("name", "desc") => SearchOrder.LexDesc,
                        _ => throw new UnsupportedSortException($"Sorting by {field} is not supported by this gateway's index: sort by sys:modified or sys:name (asc or desc), or leave ordering out for relevance."),
                    };
                }
                if (parts.Length >= 4 && parts[0] == "usr" && parts[^2] is "number" or "datetime" or "keyword" or "text" or "boolean" && parts[^1] is "asc" or "desc")
                    throw new UnsupportedSortException($"Sorting by metadata ({text}) is not supported by this gateway's index: sort by sys:modified or sys:name, or leave ordering out for relevance.");
                throw GatewayException.Invalid($"ordering '{text}' does not parse. The grammar: {Grammar}. For example sys:modified:desc.", "ordering");
            default:
                throw GatewayException.Invalid($"ordering must be a string. The grammar: {Grammar}.", "ordering");
        }
    }

    /// <summary>A well-formed ordering the index cannot honour (Quilt's UnsupportedSort).</summary>
    private sealed class UnsupportedSortException(string message) : Exception(message);

    private static SearchOrder ObjectOrder(object? order) => order?.ToString() switch
    {
        null or "BEST_MATCH" => SearchOrder.BestMatch,
        "NEWEST" => SearchOrder.Newest,
        "OLDEST" => SearchOrder.Oldest,
        "LEX_ASC" => SearchOrder.LexAsc,
        "LEX_DESC" => SearchOrder.LexDesc,
        var other => throw GatewayException.Invalid($"order '{other}' is not a SearchResultOrder: use BEST_MATCH, NEWEST, OLDEST, LEX_ASC or LEX_DESC.", "order"),
    };
}
