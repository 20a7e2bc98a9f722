using System.Globalization;
using System.Text;
using Quilt.Search.Query;

namespace Quilt.Search.Sqlite;

/// <summary>A search as SQL over the index: the FROM, the WHERE (scope, filters, search string), the score and the order.</summary>
/// <param name="Scope">The part of <see cref="Where"/> that is only the caller's scope (buckets), for checks that must not see the filters.</param>
/// <param name="MetaChecks">The metadata predicates, for <see cref="SqliteSearchIndex"/> to check their types against the fields in scope.</param>
internal sealed record SearchPlan(SqlParameters Parameters, string From, string Where, string Score, string? Match, SearchExpression Expression, bool Empty,
    string Scope = "1", IReadOnlyList<MetaCheck>? MetaChecks = null);

/// <summary>A metadata predicate's path (as the index keeps it), its type, and the argument that gave it.</summary>
internal sealed record MetaCheck(string Path, MetaFieldType Type, string Field);

/// <summary>
/// Checks a search request (filters, predicates, buckets) and turns it into a <see cref="SearchPlan"/>. Every refusal
/// is a <see cref="SearchQueryException"/> naming the argument and what to do.
/// </summary>
internal static class SearchPlans
{
    public const int MaxPageSize = 1000;
    public const int MaxUserMetaFilters = 20;

    /// <summary>The fields a package search string may name.</summary>
    public static readonly string[] PackageFields = ["name", "comment", "message", "meta", "meta.", "workflow", "entry"];

    /// <summary>The fields an object search string may name.</summary>
    public static readonly string[] ObjectFields = ["key", "ext", "content", "text"];

    public const string PackageBm25 = "-bm25(revisions_fts, 10.0, 4.0, 2.0, 2.0, 1.0, 1.0)";
    public const string ObjectBm25 = "-bm25(objects_fts, 4.0, 1.0)";

    public static void CheckSize(int size, string field)
    {
        if (size is < 0 or > MaxPageSize)
            throw new SearchQueryException($"The page size {size} is out of range; give 0 to {MaxPageSize}.") { Field = field };
    }

    public static SearchPlan Packages(PackageSearchRequest request, SearchScope scope)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(scope);
        var ps = new SqlParameters();
        var where = new List<string>();
        var buckets = Buckets(request.Buckets, scope).Where(b => b.Packages).Select(b => b.Bucket).ToList();
        var empty = buckets.Count == 0;
        var scopeCondition = empty ? "0" : $"r.bucket IN ({string.Join(", ", buckets.Select(b => ps.Add(b)))})";
        where.Add(scopeCondition);
        if (request.LatestOnly)
            where.Add("r.is_latest = 1");
        if (request.Filter is { } filter)
        {
            Range(where, ps, "r.modified", filter.Modified, "filter.modified");
            Range(where, ps, "r.size", filter.Size, "filter.size");
            Range(where, ps, "r.entries", filter.Entries, "filter.entries");
            Keyword(where, ps, "r.name", filter.Name, "filter.name");
            Keyword(where, ps, "r.hash", filter.Hash, "filter.hash");
            Keyword(where, ps, "r.workflow_id", filter.Workflow, "filter.workflow");
            if (filter.Comment is { } comment)
                where.Add(TextCondition(comment, ps, "r.id", "revisions_fts", new LeafTarget("{comment} : "), "filter.comment"));
        }
        var predicates = request.UserMetaFilters ?? [];
        if (predicates.Count > MaxUserMetaFilters)
            throw new SearchQueryException($"{predicates.Count} metadata filters; the most is {MaxUserMetaFilters}.") { Field = "userMetaFilters" };
        var checks = new List<MetaCheck>();
        for (var i = 0; i < predicates.Count; i++)
        {
            where.Add(UserMeta(predicates[i], ps, $"userMetaFilters[{i}]"));
            checks.Add(new MetaCheck(MetaPath(predicates[i].Path), predicates[i].Type, $"userMetaFilters[{i}]"));
        }

        var expression = SearchQueryParser.Parse(request.SearchString);
        expression.RequireFields(PackageFields);
        var translator = new FtsTranslator(ps, "r.id", "revisions_fts", field => PackageTarget(field, ps));
        var (match, rest) = translator.Split(expression);
        if (rest is not null)
            where.Add(rest);
        if (match is null)
            return new SearchPlan(ps, "revisions r", string.Join(" AND ", where), "0.0", null, expression, empty, scopeCondition, checks);
        where.Add($"revisions_fts MATCH {ps.Add(match)}");
        // CROSS JOIN keeps the full-text match as the outer loop: without statistics the planner may otherwise scan
        // revisions and run the MATCH once per row.
        return new SearchPlan(ps, "revisions_fts CROSS JOIN revisions r ON r.id = revisions_fts.rowid", string.Join(" AND ", where), PackageBm25, match, expression, empty,
            scopeCondition, checks);
    }

    public static SearchPlan Objects(ObjectSearchRequest request, SearchScope scope)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(scope);
        var ps = new SqlParameters();
        var where = new List<string>();
        var buckets = Buckets(request.Buckets, scope);
        var empty = buckets.Count == 0;
        if (empty)
        {
            where.Add("0");
        }
        else
        {
            var visible = new List<string>();
            foreach (var bucket in buckets)
            {
                var condition = $"o.bucket = {ps.Add(bucket.Bucket)}";
                if (bucket.KeyPrefixes is { } prefixes)
                {
                    condition += prefixes.Count == 0
                        ? " AND 0"
                        : " AND (" + string.Join(" OR ", prefixes.Select(prefix => $"substr(o.key, 1, {ps.Add(prefix.Length)}) = {ps.Add(prefix)}")) + ")";
                }
                visible.Add("(" + condition + ")");
            }
            where.Add("(" + string.Join(" OR ", visible) + ")");
        }
        if (request.Filter is { } filter)
        {
            Range(where, ps, "o.modified", filter.Modified, "filter.modified");
            Range(where, ps, "o.size", filter.Size, "filter.size");
            Keyword(where, ps, "o.key", filter.Key, "filter.key");
            if (filter.Ext is { } ext)
                Keyword(where, ps, "o.ext", ext with { Terms = ext.Terms?.Select(NormalizeExtension).ToList() }, "filter.ext");
            if (filter.Content is { } content)
                where.Add(TextCondition(content, ps, "o.id", "objects_fts", new LeafTarget("{content} : "), "filter.content"));
            if (filter.Deleted is { } deleted && Boolean("o.deleted", deleted) is { } deletedCondition)
                where.Add(deletedCondition);
        }
        var expression = SearchQueryParser.Parse(request.SearchString);
        expression.RequireFields(ObjectFields);
        var translator = new FtsTranslator(ps, "o.id", "objects_fts", field => ObjectTarget(field, ps));
        var (match, rest) = translator.Split(expression);
        if (rest is not null)
            where.Add(rest);
        if (match is null)
            return new SearchPlan(ps, "objects o", string.Join(" AND ", where), "0.0", null, expression, empty);
        where.Add($"objects_fts MATCH {ps.Add(match)}");
        return new SearchPlan(ps, "objects_fts CROSS JOIN objects o ON o.id = objects_fts.rowid", string.Join(" AND ", where), ObjectBm25, match, expression, empty);
    }

    /// <summary>The ORDER BY of a package search, with <paramref name="score"/> the expression (or column) of the score.</summary>
    public static string PackageOrder(SearchOrder order, string score) => order switch
    {
        SearchOrder.BestMatch => $"{score} DESC, r.modified DESC, r.id",
        SearchOrder.Newest => "r.modified DESC, r.id",
        SearchOrder.Oldest => "r.modified ASC, r.id",
        SearchOrder.LexAsc => "r.name ASC, r.modified DESC, r.id",
        SearchOrder.LexDesc => "r.name DESC, r.modified DESC, r.id",
        _ => throw new SearchQueryException($"Unknown order {order}.") { Field = "order" },
    };

    /// <summary>The ORDER BY of an object search, with <paramref name="score"/> the expression (or column) of the score.</summary>
    public static string ObjectOrder(SearchOrder order, string score) => order switch
    {
        SearchOrder.BestMatch => $"{score} DESC, o.modified DESC, o.id",
        SearchOrder.Newest => "o.modified DESC, o.id",
        SearchOrder.Oldest => "o.modified ASC, o.id",
        SearchOrder.LexAsc => "o.bucket ASC, o.key ASC",
        SearchOrder.LexDesc => "o.bucket DESC, o.key DESC",
        _ => throw new SearchQueryException($"Unknown order {order}.") { Field = "order" },
    };

    private static LeafTarget PackageTarget(string? field, SqlParameters ps) => field switch
    {
        null => new LeafTarget(""),
        "name" => new LeafTarget("{name} : "),
        "comment" or "message" => new LeafTarget("{comment} : "),
        "meta" => new LeafTarget("{meta} : "),
        "workflow" => new LeafTarget("{workflow} : "),
        "entry" => new LeafTarget("{keys entry_meta} : "),
        _ when field.StartsWith("meta.", StringComparison.Ordinal) => MetaPathTarget("/" + field["meta.".Length..].Replace('.', '/'), ps),
        _ => throw new SearchQueryException($"Unknown field '{field}'.") { Field = "searchString" },
    };

    private static LeafTarget MetaPathTarget(string path, SqlParameters ps) => new(null, (phrase, _) =>
        $"r.id IN (SELECT m.revision_id FROM meta_fts f JOIN revision_meta m ON m.id = f.rowid WHERE meta_fts MATCH {ps.Add(phrase)} AND m.path = {ps.Add(path)} COLLATE NOCASE)");

    private static LeafTarget ObjectTarget(string? field, SqlParameters ps) => field switch
    {
        null => new LeafTarget(""),
        "key" => new LeafTarget("{key} : "),
        "content" or "text" => new LeafTarget("{content} : "),
        "ext" => new LeafTarget(null, (_, leaf) => leaf switch
        {
            TermExpression { Prefix: true } term => $"substr(o.ext, 1, {ps.Add(NormalizeExtension(term.Text).Length)}) = {ps.Add(NormalizeExtension(term.Text))}",
            TermExpression term => $"o.ext = {ps.Add(NormalizeExtension(term.Text))}",
            PhraseExpression phrase => $"o.ext = {ps.Add(NormalizeExtension(phrase.Text))}",
            _ => "0",
        }),
        _ => throw new SearchQueryException($"Unknown field '{field}'.") { Field = "searchString" },
    };

    /// <summary>An extension as the index keeps it: <c>CSV</c>, <c>csv</c> and <c>.csv</c> are <c>.csv</c>.</summary>
    public static string NormalizeExtension(string extension) => "." + extension.Trim().TrimStart('.').ToLowerInvariant();

    private static string TextCondition(TextMatch text, SqlParameters ps, string idColumn, string ftsTable, LeafTarget target, string field)
    {
        SearchExpression expression;
        try
        {
            expression = SearchQueryParser.Parse(text.QueryString);
            expression.RequireFields([]);
        }
        catch (SearchQueryException e)
        {
            throw new SearchQueryException(e.Message.Replace("the search string", field, StringComparison.Ordinal), e) { Field = field };
        }
        if (expression is MatchAllExpression)
            throw new SearchQueryException($"{field} is empty. Give words to match, or leave the filter out.") { Field = field };
        return new FtsTranslator(ps, idColumn, ftsTable, _ => target).Condition(expression);
    }

    private static List<BucketScope> Buckets(IReadOnlyList<string>? requested, SearchScope scope)
    {
        if (requested is null || requested.Count == 0)
            return [.. scope.Buckets];
        var chosen = new List<BucketScope>();
        foreach (var bucket in requested.Distinct(StringComparer.Ordinal))
        {
            var visible = scope.Buckets.FirstOrDefault(b => string.Equals(b.Bucket, bucket, StringComparison.Ordinal));
            if (visible is null)
            {
                throw new SearchQueryException(scope.Buckets.Count == 0
                    ? $"The bucket '{bucket}' cannot be searched here: no bucket can."
                    : $"The bucket '{bucket}' cannot be searched here. Searchable buckets: {string.Join(", ", scope.Buckets.Select(b => b.Bucket))}; or leave buckets out to search them all.")
                {
                    Field = "buckets",
                };
            }
            chosen.Add(visible);
        }
        return chosen;
    }

    private static void Range(List<string> where, SqlParameters ps, string column, NumberRange? range, string field)
    {
        if (range is null)
            return;
        if (range.Gte is { } low && range.Lte is { } high && low > high)
            throw new SearchQueryException($"{field}: gte {Number(low)} is above lte {Number(high)}, so nothing matches. Swap them.") { Field = field };
        if (range.Gte is { } gte)
            where.Add($"{column} >= {ps.Add(gte)}");
        if (range.Lte is { } lte)
            where.Add($"{column} <= {ps.Add(lte)}");
    }

    private static void Range(List<string> where, SqlParameters ps, string column, DateRange? range, string field)
    {
        if (range is null)
            return;
        if (range.Gte is { } low && range.Lte is { } high && low > high)
            throw new SearchQueryException($"{field}: gte {low:O} is after lte {high:O}, so nothing matches. Swap them.") { Field = field };
        if (range.Gte is { } gte)
            where.Add($"{column} >= {ps.Add(gte.ToUnixTimeMilliseconds())}");
        if (range.Lte is { } lte)
            where.Add($"{column} <= {ps.Add(lte.ToUnixTimeMilliseconds())}");
    }

    private static void Keyword(List<string> where, SqlParameters ps, string column, KeywordMatch? match, string field)
    {
        if (match is null)
            return;
        if (KeywordCondition(column, match, ps, field) is { } condition)
            where.Add(condition);
    }

    private static string? KeywordCondition(string column, KeywordMatch match, SqlParameters ps, string field)
    {
        var terms = match.Terms ?? [];
        if (terms.Count == 0 && string.IsNullOrEmpty(match.Wildcard))
            throw new SearchQueryException($"{field} has neither terms nor a wildcard. Give terms (exact values), a wildcard such as 'data/*.csv', or leave it out.") { Field = field };
        var parts = new List<string>();
        if (terms.Count > 0)
            parts.Add($"{column} IN ({string.Join(", ", terms.Select(term => ps.Add(term)))})");
        if (!string.IsNullOrEmpty(match.Wildcard))
            parts.Add($"{column} GLOB {ps.Add(Glob(match.Wildcard))}");
        return "(" + string.Join(" OR ", parts) + ")";
    }

    /// <summary>A wildcard (<c>*</c>, <c>?</c>) as a GLOB pattern: every other character literal (GLOB's <c>[</c> escaped).</summary>
    internal static string Glob(string wildcard)
    {
        var glob = new StringBuilder();
        foreach (var c in wildcard)
            glob.Append(c switch { '[' => "[[]", ']' => "[]]", _ => c.ToString() });
        return glob.ToString();
    }

    private static string? Boolean(string column, BooleanMatch match) => (match.True, match.False) switch
    {
        (true, not true) => $"{column} = 1",
        (not true, true) => $"{column} = 0",
        _ => null,
    };

    private static string UserMeta(UserMetaPredicate predicate, SqlParameters ps, string field)
    {
        if (string.IsNullOrWhiteSpace(predicate.Path))
            throw new SearchQueryException($"{field}: the path is empty. Give a JSON pointer into the package metadata, such as /experiment/temperature.") { Field = field };
        var path = MetaPath(predicate.Path);
        var set = new List<string>();
        if (predicate.Number is not null) set.Add("number");
        if (predicate.Datetime is not null) set.Add("datetime");
        if (predicate.Keyword is not null) set.Add("keyword");
        if (predicate.Text is not null) set.Add("text");
        if (predicate.Boolean is not null) set.Add("boolean");
        var type = predicate.Type.ToString().ToLowerInvariant();
        if (set.Count != 1)
        {
            throw new SearchQueryException(set.Count == 0
                ? $"{field} ({predicate.Path}): no predicate is set. Set the {type} predicate that its type names."
                : $"{field} ({predicate.Path}): {string.Join(" and ", set)} are set; set exactly one, the {type} predicate its type names.")
            {
                Field = field,
            };
        }
        if (set[0] != type)
            throw new SearchQueryException($"{field} ({predicate.Path}): the type is {type} but a {set[0]} predicate is set. Set the {type} predicate, or make the type {set[0]}.") { Field = field };

        var leaf = $"m.revision_id = r.id AND m.path = {ps.Add(path)}";
        var where = new List<string>();
        switch (predicate.Type)
        {
            case MetaFieldType.Number:
                Range(where, ps, "m.num", predicate.Number, field);
                return $"EXISTS (SELECT 1 FROM revision_meta m WHERE {leaf} AND m.type = {(int)MetaFieldType.Number}{string.Concat(where.Select(w => " AND " + w))})";
            case MetaFieldType.Datetime:
                Range(where, ps, "m.num", predicate.Datetime, field);
                return $"EXISTS (SELECT 1 FROM revision_meta m WHERE {leaf} AND m.type = {(int)MetaFieldType.Datetime}{string.Concat(where.Select(w => " AND " + w))})";
            case MetaFieldType.Keyword:
                var keyword = KeywordCondition("m.text", predicate.Keyword!, ps, field);
                return $"EXISTS (SELECT 1 FROM revision_meta m WHERE {leaf} AND m.type IN ({(int)MetaFieldType.Datetime}, {(int)MetaFieldType.Keyword}, {(int)MetaFieldType.Text}) AND {keyword})";
            case MetaFieldType.Boolean:
                var boolean = Boolean("m.num", predicate.Boolean!);
                return $"EXISTS (SELECT 1 FROM revision_meta m WHERE {leaf} AND m.type = {(int)MetaFieldType.Boolean}{(boolean is null ? "" : " AND " + boolean)})";
            default:
                return TextCondition(predicate.Text!, ps, "r.id", "revisions_fts", MetaPathTarget(path, ps), field);
        }
    }

    /// <summary>A predicate's path as the index keeps it: a JSON pointer (<c>experiment.temperature</c> is <c>/experiment/temperature</c>).</summary>
    private static string MetaPath(string path) => path.StartsWith('/') ? path : "/" + path.Replace('.', '/');

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
