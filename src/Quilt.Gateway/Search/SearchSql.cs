using System.Globalization;
using System.Text;
using Npgsql;
using Quilt.Search;
using Quilt.Search.Query;

namespace Quilt.Gateway.Search;

/// <summary>A WHERE clause being built, with its parameters (named @p0, @p1, …).</summary>
internal class SqlWhere
{
    private readonly List<(string Name, object? Value)> _parameters = [];
    private readonly List<string> _positive = [];

    /// <summary>The clause (over alias <c>p</c> for packages, <c>o</c> for objects).</summary>
    public string Where { get; protected set; } = "TRUE";

    /// <summary>Every word and phrase of the search string not under NOT, as one OR tsquery: for ranking and match locations; null when none.</summary>
    public string? AnyWords => _positive.Count == 0 ? null : string.Join(" | ", _positive.Select(q => "(" + q + ")"));

    public string Add(object? value)
    {
        var name = "p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add((name, value));
        return "@" + name;
    }

    public NpgsqlCommand Command(NpgsqlConnection connection, string sql)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in _parameters)
            command.Parameters.Add(PostgresSearchIndex.Parameter(name, value));
        return command;
    }

    /// <summary>
    /// The search expression as SQL: each word or phrase a tsquery matched against the column <paramref name="target"/>
    /// gives for its field (a format string with {0} for the tsquery expression), joined with AND/OR/NOT.
    /// </summary>
    protected string Translate(SearchExpression expression, Func<string?, string> target, bool rank)
    {
        switch (expression)
        {
            case MatchAllExpression:
                return "TRUE";
            case TermExpression term:
            {
                var query = TsQuery(term.Text, term.Prefix);
                if (rank)
                    _positive.Add(query);
                return string.Format(CultureInfo.InvariantCulture, target(term.Field), Add(query) + "::tsquery");
            }
            case PhraseExpression phrase:
            {
                var query = TsQuery(phrase.Text, prefix: false);
                if (rank)
                    _positive.Add(query);
                return string.Format(CultureInfo.InvariantCulture, target(phrase.Field), Add(query) + "::tsquery");
            }
            case AndExpression and:
                return "(" + string.Join(" AND ", and.Parts.Select(p => Translate(p, target, rank))) + ")";
            case OrExpression or:
                return "(" + string.Join(" OR ", or.Parts.Select(p => Translate(p, target, rank))) + ")";
            case NotExpression not:
                return "(NOT " + Translate(not.Operand, target, rank: false) + ")";
            default:
                throw new SearchQueryException("The search string has a part this index cannot answer.") { Field = "searchString" };
        }
    }

    /// <summary>A word (or a word with punctuation inside: its parts in order) or phrase as a tsquery.</summary>
    private static string TsQuery(string text, bool prefix)
    {
        var words = IndexText.Words(text);
        if (words.Count == 0)
        {
            throw new SearchQueryException($"'{text}' in the search string has no letters or digits to search for. Remove it, or search for words.")
            {
                Field = "searchString",
            };
        }
        var query = new StringBuilder();
        for (var i = 0; i < words.Count; i++)
        {
            if (i > 0)
                query.Append(" <-> ");
            query.Append(IndexText.Lexeme(words[i], prefix && i == words.Count - 1));
        }
        return query.ToString();
    }

    /// <summary>A text predicate's query string (words and phrases only) against one column.</summary>
    protected string TextPredicate(TextMatch match, string column, string field)
    {
        var parsed = SearchQueryParser.Parse(match.QueryString);
        if (parsed.Fields().Count > 0)
            throw new SearchQueryException($"{field} takes words and phrases, not field:value ('{parsed.Fields()[0]}:'). Remove the field name.") { Field = field };
        if (parsed is MatchAllExpression)
            throw new SearchQueryException($"{field} has an empty query string. Give words to match, or leave the filter out.") { Field = field };
        return Translate(parsed, _ => column + " @@ {0}", rank: false);
    }

    protected string Range(string column, double? gte, double? lte, string field)
    {
        if (gte is { } g && lte is { } l && g > l)
            throw new SearchQueryException($"{field}: gte {g} is greater than lte {l}, so nothing can match. Swap them.") { Field = field };
        var parts = new List<string>();
        if (gte is { } low)
            parts.Add($"{column} >= {Add(low)}");
        if (lte is { } high)
            parts.Add($"{column} <= {Add(high)}");
        return parts.Count == 0 ? "TRUE" : string.Join(" AND ", parts);
    }

    protected string Range(string column, DateRange range, string field)
    {
        if (range.Gte is { } g && range.Lte is { } l && g > l)
            throw new SearchQueryException($"{field}: gte {g:O} is later than lte {l:O}, so nothing can match. Swap them.") { Field = field };
        var parts = new List<string>();
        if (range.Gte is { } low)
            parts.Add($"{column} >= {Add(low.ToUniversalTime())}");
        if (range.Lte is { } high)
            parts.Add($"{column} <= {Add(high.ToUniversalTime())}");
        return parts.Count == 0 ? "TRUE" : string.Join(" AND ", parts);
    }

    /// <summary>Exact terms (any of them) and a wildcard (<c>*</c>, <c>?</c>), case-sensitive; both when both are given.</summary>
    protected string Keyword(string column, KeywordMatch match, string field, Func<string, string>? normalize = null)
    {
        var parts = new List<string>();
        if (match.Terms is { Count: > 0 } terms)
            parts.Add($"{column} = ANY({Add(terms.Select(t => normalize is null ? t : normalize(t)).ToArray())})");
        if (!string.IsNullOrEmpty(match.Wildcard))
        {
            var pattern = new StringBuilder();
            foreach (var c in normalize is null ? match.Wildcard : normalize(match.Wildcard))
            {
                pattern.Append(c switch
                {
                    '*' => "%",
                    '?' => "_",
                    '%' or '_' or '\\' => "\\" + c,
                    _ => c.ToString(),
                });
            }
            parts.Add($"{column} LIKE {Add(pattern.ToString())}");
        }
        if (parts.Count == 0)
            throw new SearchQueryException($"{field} gives neither terms nor a wildcard. Give one, or leave the filter out.") { Field = field };
        return string.Join(" AND ", parts);
    }

    protected static string Boolean(string column, BooleanMatch match)
    {
        var wantTrue = match.True == true;
        var wantFalse = match.False == true;
        return wantTrue == wantFalse ? "TRUE" : wantTrue ? $"{column} = TRUE" : $"{column} = FALSE";
    }
}

/// <summary>A package search as SQL over <c>search_packages p</c>.</summary>
internal sealed class PackageQuery : SqlWhere
{
    private const string Revision = "m.bucket = p.bucket AND m.name = p.name AND m.hash = p.hash";

    private readonly List<(string Path, MetaFieldType Type, string Field)> _metaChecks = [];
    private string _scopeClause = "FALSE";

    public static PackageQuery Build(PackageSearchRequest request, SearchScope scope)
    {
        var query = new PackageQuery();
        var parts = new List<string>();
        var requested = request.Buckets.ToHashSet(StringComparer.Ordinal);
        var buckets = scope.Buckets.Where(b => b.Packages && (requested.Count == 0 || requested.Contains(b.Bucket))).Select(b => b.Bucket).ToArray();
        query._scopeClause = buckets.Length == 0 ? "FALSE" : $"p.bucket = ANY({query.Add(buckets)})";
        parts.Add(query._scopeClause);
        if (request.LatestOnly)
            parts.Add("p.is_latest");

        var expression = SearchQueryParser.Parse(request.SearchString);
        expression.RequireFields(PostgresSearchIndex.PackageFields);
        parts.Add(query.Translate(expression, query.PackageTarget, rank: true));

        if (request.Filter is { } f)
        {
            if (f.Modified is { } modified)
                parts.Add(query.Range("p.modified", modified, "filter.modified"));
            if (f.Size is { } size)
                parts.Add(query.Range("p.size", size.Gte, size.Lte, "filter.size"));
            if (f.Entries is { } entries)
                parts.Add(query.Range("p.entries_count", entries.Gte, entries.Lte, "filter.entries"));
            if (f.Name is { } name)
                parts.Add(query.Keyword("p.name", name, "filter.name"));
            if (f.Hash is { } hash)
                parts.Add(query.Keyword("p.hash", hash, "filter.hash"));
            if (f.Workflow is { } workflow)
                parts.Add(query.Keyword("p.workflow_id", workflow, "filter.workflow"));
            if (f.Comment is { } comment)
                parts.Add(query.TextPredicate(comment, "p.comment_tsv", "filter.comment"));
        }

        var predicates = request.UserMetaFilters ?? [];
        for (var i = 0; i < predicates.Count; i++)
            parts.Add(query.MetaPredicate(predicates[i], $"userMetaFilters[{i.ToString(CultureInfo.InvariantCulture)}]"));

        query.Where = string.Join(" AND ", parts.Select(p => "(" + p + ")"));
        return query;
    }

    private string PackageTarget(string? field) => field switch
    {
        null => "p.doc @@ {0}",
        "name" => "p.name_tsv @@ {0}",
        "comment" or "message" => "p.comment_tsv @@ {0}",
        "meta" => "p.meta_tsv @@ {0}",
        "workflow" => "p.workflow_tsv @@ {0}",
        "entry" => "p.keys_tsv @@ {0}",
        _ => MetaPathTarget(field),
    };

    private string MetaPathTarget(string field)
    {
        // The parser lower-cases field names, so paths compare in lower case; a path matches its own value and everything under it.
        var path = IndexText.PointerOfField(field).ToLowerInvariant();
        var p = Add(path);
        var under = Add(path + "/");
        return $"EXISTS (SELECT 1 FROM search_package_meta m WHERE {Revision} AND (lower(m.path) = {p} OR starts_with(lower(m.path), {under})) AND m.text_tsv @@ {{0}})";
    }

    private string MetaPredicate(UserMetaPredicate predicate, string field)
    {
        if (string.IsNullOrEmpty(predicate.Path) || predicate.Path[0] != '/')
            throw new SearchQueryException($"{field}: path '{predicate.Path}' is not a JSON pointer. Write it as /experiment/temperature.") { Field = field + ".path" };
        var given = new List<string>();
        if (predicate.Number is not null)
            given.Add("number");
        if (predicate.Datetime is not null)
            given.Add("datetime");
        if (predicate.Keyword is not null)
            given.Add("keyword");
        if (predicate.Text is not null)
            given.Add("text");
        if (predicate.Boolean is not null)
            given.Add("boolean");
        var type = PostgresSearchIndex.TypeName(predicate.Type);
        if (given.Count != 1 || given[0] != type)
        {
            throw new SearchQueryException(given.Count == 0
                ? $"{field} ({predicate.Path}) gives no predicate. Give exactly one: {type}."
                : $"{field} ({predicate.Path}) is typed {type} but gives a {string.Join(" and a ", given)} predicate. Give exactly one predicate, of its type ({type}).")
            {
                Field = field,
            };
        }
        _metaChecks.Add((predicate.Path, predicate.Type, field));

        var path = Add(predicate.Path);
        var condition = predicate.Type switch
        {
            MetaFieldType.Number => "m.num IS NOT NULL AND " + Range("m.num", predicate.Number!.Gte, predicate.Number.Lte, field + ".number"),
            MetaFieldType.Datetime => "m.date IS NOT NULL AND " + Range("m.date", predicate.Datetime!, field + ".datetime"),
            MetaFieldType.Keyword => "m.keyword IS NOT NULL AND " + Keyword("m.keyword", predicate.Keyword!, field + ".keyword"),
            MetaFieldType.Text => TextPredicate(predicate.Text!, "m.text_tsv", field + ".text"),
            _ => "m.bool IS NOT NULL AND " + Boolean("m.bool", predicate.Boolean!),
        };
        return $"EXISTS (SELECT 1 FROM search_package_meta m WHERE {Revision} AND m.path = {path} AND {condition})";
    }

    /// <summary>
    /// Refuses a metadata predicate whose path the visible revisions hold, but never as that type (a number filter on
    /// a field that is always a string): otherwise it would silently match nothing.
    /// </summary>
    public async Task CheckMetaTypesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var (path, type, field) in _metaChecks)
        {
            var types = new List<string>();
            // Only the scope: the predicates themselves would hide the mismatch.
            await using (var command = Command(connection, $"""
                SELECT DISTINCT m.type FROM search_package_meta m JOIN search_packages p ON {Revision}
                WHERE m.path = @check_path AND {_scopeClause}
                """))
            {
                command.Parameters.AddWithValue("check_path", path);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    types.Add(reader.GetString(0));
            }
            var accepted = type switch
            {
                MetaFieldType.Keyword => new[] { "keyword", "datetime" },
                MetaFieldType.Text => ["keyword", "datetime", "text", "number", "boolean"],
                _ => [PostgresSearchIndex.TypeName(type)],
            };
            if (types.Count > 0 && !types.Intersect(accepted, StringComparer.Ordinal).Any())
            {
                throw new SearchQueryException(
                    $"{field}: metadata field {path} is {string.Join(" or ", types)} here, not {PostgresSearchIndex.TypeName(type)}. Use a {types[0]} predicate for it.")
                {
                    Field = field,
                };
            }
        }
    }

    /// <summary>The metadata fields of the hits, most common first, with extents; truncated when there are more than the limit.</summary>
    public async Task<(List<UserMetaFacet> Facets, bool Truncated)> FacetsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const int Limit = 100;
        const int KeywordValues = 20;
        var rows = new List<(string Path, string Type, double? MinNumber, double? MaxNumber, DateTimeOffset? MinDate, DateTimeOffset? MaxDate, long Distinct)>();
        await using (var command = Command(connection, $"""
            SELECT m.path, m.type, min(m.num), max(m.num), min(m.date), max(m.date), count(DISTINCT m.keyword)
            FROM search_package_meta m JOIN search_packages p ON {Revision}
            WHERE {Where}
            GROUP BY m.path, m.type ORDER BY count(*) DESC, m.path COLLATE "C", m.type LIMIT {Limit + 1}
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetDouble(2), reader.IsDBNull(3) ? null : reader.GetDouble(3),
                    reader.IsDBNull(4) ? null : new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)),
                    reader.IsDBNull(5) ? null : new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc)),
                    reader.GetInt64(6)));
            }
        }
        var truncated = rows.Count > Limit;
        if (truncated)
            rows.RemoveAt(rows.Count - 1);

        var lowCardinality = rows.Where(r => r.Type == "keyword" && r.Distinct <= KeywordValues).Select(r => r.Path).ToArray();
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (lowCardinality.Length > 0)
        {
            await using var command = Command(connection, $"""
                SELECT m.path, m.keyword FROM search_package_meta m JOIN search_packages p ON {Revision}
                WHERE {Where} AND m.type = 'keyword' AND m.path = ANY(@facet_paths)
                GROUP BY m.path, m.keyword ORDER BY m.path, count(*) DESC, m.keyword COLLATE "C"
                """);
            command.Parameters.AddWithValue("facet_paths", lowCardinality);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var path = reader.GetString(0);
                if (!values.TryGetValue(path, out var list))
                    values[path] = list = [];
                list.Add(reader.GetString(1));
            }
        }

        var facets = rows.Select(r => r.Type switch
        {
            "number" => new UserMetaFacet(r.Path, MetaFieldType.Number, true, Number: new NumberExtents(r.MinNumber ?? 0, r.MaxNumber ?? 0)),
            "datetime" => new UserMetaFacet(r.Path, MetaFieldType.Datetime, true,
                Datetime: new DateExtents(r.MinDate ?? DateTimeOffset.UnixEpoch, r.MaxDate ?? DateTimeOffset.UnixEpoch)),
            // A keyword with many values is offered as text (no value list) but still sorts, as Quilt's catalog has it.
            "keyword" => values.TryGetValue(r.Path, out var list)
                ? new UserMetaFacet(r.Path, MetaFieldType.Keyword, true, Keywords: list)
                : new UserMetaFacet(r.Path, MetaFieldType.Text, true),
            "boolean" => new UserMetaFacet(r.Path, MetaFieldType.Boolean, false),
            _ => new UserMetaFacet(r.Path, MetaFieldType.Text, false),
        }).ToList();
        return (facets, truncated);
    }
}

/// <summary>An object search as SQL over <c>search_objects o</c>.</summary>
internal sealed class ObjectQuery : SqlWhere
{
    public static ObjectQuery Build(ObjectSearchRequest request, SearchScope scope)
    {
        var query = new ObjectQuery();
        var parts = new List<string> { query.Scope(request.Buckets, scope) };
        var expression = SearchQueryParser.Parse(request.SearchString);
        expression.RequireFields(PostgresSearchIndex.ObjectFields);
        parts.Add(query.Translate(expression, query.ObjectTarget, rank: true));
        if (request.Filter is { } f)
        {
            if (f.Modified is { } modified)
                parts.Add(query.Range("o.modified", modified, "filter.modified"));
            if (f.Size is { } size)
                parts.Add(query.Range("o.size", size.Gte, size.Lte, "filter.size"));
            if (f.Ext is { } ext)
                parts.Add(query.Keyword("o.ext", ext, "filter.ext", NormalizeExtension));
            if (f.Key is { } key)
                parts.Add(query.Keyword("o.key", key, "filter.key"));
            if (f.Content is { } content)
                parts.Add(query.TextPredicate(content, "o.content_tsv", "filter.content"));
            if (f.Deleted is { } deleted)
                parts.Add(Boolean("o.deleted", deleted));
        }
        query.Where = string.Join(" AND ", parts.Select(p => "(" + p + ")"));
        return query;
    }

    /// <summary>Extensions as indexed: lower case with the dot (<c>CSV</c> and <c>.csv</c> both mean <c>.csv</c>).</summary>
    private static string NormalizeExtension(string ext)
    {
        var lower = ext.ToLowerInvariant();
        return lower.StartsWith('.') || lower.StartsWith('*') || lower.Length == 0 ? lower : "." + lower;
    }

    private string Scope(IReadOnlyList<string> requested, SearchScope scope)
    {
        var wanted = requested.ToHashSet(StringComparer.Ordinal);
        var whole = new List<string>();
        var parts = new List<string>();
        foreach (var bucket in scope.Buckets.Where(b => wanted.Count == 0 || wanted.Contains(b.Bucket)))
        {
            if (bucket.KeyPrefixes is null)
            {
                whole.Add(bucket.Bucket);
                continue;
            }
            if (bucket.KeyPrefixes.Count == 0)
                continue;
            var prefixes = string.Join(" OR ", bucket.KeyPrefixes.Select(p => $"starts_with(o.key, {Add(p)})"));
            parts.Add($"(o.bucket = {Add(bucket.Bucket)} AND ({prefixes}))");
        }
        if (whole.Count > 0)
            parts.Insert(0, $"o.bucket = ANY({Add(whole.ToArray())})");
        return parts.Count == 0 ? "FALSE" : string.Join(" OR ", parts);
    }

    private string ObjectTarget(string? field) => field switch
    {
        null => "o.doc @@ {0}",
        "key" => "o.key_tsv @@ {0}",
        "content" or "text" => "o.content_tsv @@ {0}",
        // ext:csv: the extension as a word of its own (no dot).
        _ => "to_tsvector('simple', replace(o.ext, '.', '')) @@ {0}",
    };
}
