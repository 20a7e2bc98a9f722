using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Quilt.Search.Query;

namespace Quilt.Search.Sqlite;

public sealed partial class SqliteSearchIndex
{
    /// <summary>Matching entries listed per package hit, at most.</summary>
    public const int MaxMatchingEntries = 10;

    /// <summary>Metadata fields listed in a package search's facets, at most (more: <see cref="PackageSearchStats.UserMetaTruncated"/>).</summary>
    public const int MaxMetaFacets = 50;

    /// <summary>Keywords listed per keyword facet, at most; a field with more distinct values lists none.</summary>
    public const int MaxFacetKeywords = 10;

    /// <summary>Workflows and extensions listed in facets, at most.</summary>
    public const int MaxFacetValues = 10;

    /// <summary>
    /// Hits a package search's metadata facets are computed over, at most: the first ones in the search's order (more:
    /// <see cref="PackageSearchStats.UserMetaSample"/> says so). Bounds the work of a broad search; extents, workflows
    /// and the total always cover every hit.
    /// </summary>
    public const int MaxFacetSample = 1000;

    /// <summary>Characters of an object's indexed text returned with its hit.</summary>
    public const int IndexedContentChars = 1000;

    /// <inheritdoc/>
    public async Task<PackageSearchResults> SearchPackagesAsync(PackageSearchRequest request, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        SearchPlans.CheckSize(request.Size, "size");
        var (total, stats, page) = await RunPackagesAsync(request, scope, 0, request.Size, true, cancellationToken).ConfigureAwait(false);
        return new PackageSearchResults(total, stats!, page);
    }

    /// <inheritdoc/>
    public async Task<SearchPage<PackageHit>> MorePackagesAsync(string cursor, int size, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        SearchPlans.CheckSize(size, "size");
        var payload = _cursors.Read(cursor, SearchCursors.PackagesKind, scope);
        var (_, _, page) = await RunPackagesAsync(payload.Packages!, scope, payload.Position, size, false, cancellationToken).ConfigureAwait(false);
        return page;
    }

    /// <summary>The buckets the search a cursor continues asked for (the cursor checked first: refused if it is not one this index gave).</summary>
    internal IReadOnlyList<string> CursorBuckets(string cursor) => _cursors.ReadBuckets(cursor);

    /// <inheritdoc/>
    public async Task<ObjectSearchResults> SearchObjectsAsync(ObjectSearchRequest request, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        SearchPlans.CheckSize(request.Size, "size");
        var (total, stats, page) = await RunObjectsAsync(request, scope, 0, request.Size, true, cancellationToken).ConfigureAwait(false);
        return new ObjectSearchResults(total, stats!, page);
    }

    /// <inheritdoc/>
    public async Task<SearchPage<ObjectHit>> MoreObjectsAsync(string cursor, int size, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        SearchPlans.CheckSize(size, "size");
        var payload = _cursors.Read(cursor, SearchCursors.ObjectsKind, scope);
        var (_, _, page) = await RunObjectsAsync(payload.Objects!, scope, payload.Position, size, false, cancellationToken).ConfigureAwait(false);
        return page;
    }

    private async Task<(long Total, PackageSearchStats? Stats, SearchPage<PackageHit> Page)> RunPackagesAsync(
        PackageSearchRequest request, SearchScope scope, int position, int size, bool withStats, CancellationToken cancellationToken)
    {
        var plan = SearchPlans.Packages(request, scope);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // One read transaction: the totals, the facets and the page see the same snapshot.
            var transaction = connection.BeginTransaction(deferred: true);
            await using (transaction.ConfigureAwait(false))
            {
                if (plan.Empty)
                    return (0, withStats ? EmptyPackageStats : null, new SearchPage<PackageHit>([], null));
                if (withStats)
                    await CheckMetaTypesAsync(connection, plan, cancellationToken).ConfigureAwait(false);
                long total = 0;
                PackageSearchStats? stats = null;
                List<(long Id, PackageHit Hit)> rows;
                if (withStats)
                {
                    (total, stats) = await PackageTotalsAsync(connection, plan, cancellationToken).ConfigureAwait(false);
                    // The first page and the metadata facets both come from the best hits, ranked once into a small table.
                    await RankAsync(connection, plan, "r.id", SearchPlans.PackageOrder(request.Order, plan.Score), cancellationToken).ConfigureAwait(false);
                    var (userMeta, truncated) = await MetaFacetsAsync(connection, cancellationToken).ConfigureAwait(false);
                    stats = stats with { UserMeta = userMeta, UserMetaTruncated = truncated, UserMetaSample = total > MaxFacetSample ? MaxFacetSample : null };
                    rows = await PackageRowsAsync(connection, "SELECT k.id AS id, k.score AS score, k.pos AS pos FROM temp.search_ranked k ORDER BY k.pos LIMIT $limit",
                        "page.pos", size + 1, 0, null, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var page = $"SELECT r.id AS id, {plan.Score} AS score FROM {plan.From} WHERE {plan.Where} ORDER BY {SearchPlans.PackageOrder(request.Order, plan.Score)} LIMIT $limit OFFSET $offset";
                    rows = await PackageRowsAsync(connection, page, SearchPlans.PackageOrder(request.Order, "page.score"), size + 1, position, plan.Parameters,
                        cancellationToken).ConfigureAwait(false);
                }
                // One row past the page says whether there is a next page (no count needed for later pages).
                var more = rows.Count > size;
                if (more)
                    rows.RemoveAt(rows.Count - 1);
                var locations = await PackageLocationsAsync(connection, plan, rows.Select(r => r.Id).ToList(), cancellationToken).ConfigureAwait(false);
                var entries = await MatchingEntriesAsync(connection, plan.Expression, rows.Select(r => r.Id).ToList(), cancellationToken).ConfigureAwait(false);
                var hits = rows.Select(row => row.Hit with
                {
                    MatchLocations = locations.GetValueOrDefault(row.Id, row.Hit.MatchLocations),
                    MatchingEntries = entries.GetValueOrDefault(row.Id, []),
                }).ToList();
                var cursor = hits.Count > 0 && more
                    ? _cursors.Issue(SearchCursors.PackagesKind, scope, position + hits.Count, request, null)
                    : null;
                return (total, stats, new SearchPage<PackageHit>(hits, cursor));
            }
        }
    }

    private static readonly PackageSearchStats EmptyPackageStats = new(null, null, null, [], [], false);

    /// <summary>
    /// The rows of a page: <paramref name="page"/> picks the ids and scores of the page (in a materialized CTE, so the
    /// sort over every hit carries only those), then the columns of just those rows are read, in <paramref name="order"/>.
    /// </summary>
    private static async Task<List<(long Id, PackageHit Hit)>> PackageRowsAsync(SqliteConnection connection, string page, string order, int limit, int offset,
        SqlParameters? parameters, CancellationToken cancellationToken)
    {
        var rows = new List<(long Id, PackageHit Hit)>();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            WITH page AS MATERIALIZED ({page})
            SELECT r.id, r.bucket, r.name, r.hash, r.pointer, r.modified, r.is_latest, r.comment, r.user_meta, r.workflow, r.size, r.entries, page.score
            FROM page JOIN revisions r ON r.id = page.id ORDER BY {order};
            """;
        parameters?.ApplyTo(command);
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$offset", offset);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var bucket = reader.GetString(1);
                var name = reader.GetString(2);
                var hash = reader.GetString(3);
                var latest = reader.GetInt64(6) == 1;
                rows.Add((reader.GetInt64(0), new PackageHit(
                    Id: $"{bucket}/{name}@{hash}",
                    Score: reader.GetDouble(12),
                    Bucket: bucket,
                    Name: name,
                    Pointer: latest ? "latest" : reader.GetString(4),
                    Hash: hash,
                    Size: reader.GetInt64(10),
                    Modified: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                    TotalEntriesCount: checked((int)reader.GetInt64(11)),
                    Comment: reader.IsDBNull(7) ? null : reader.GetString(7),
                    Meta: reader.IsDBNull(8) ? null : reader.GetString(8),
                    Workflow: reader.IsDBNull(9) ? null : JsonDocument.Parse(reader.GetString(9)).RootElement.Clone(),
                    MatchLocations: new PackageMatchLocations(false, false, false, false),
                    MatchingEntries: [])));
            }
        }
        return rows;
    }

    private async Task<(long Total, ObjectSearchStats? Stats, SearchPage<ObjectHit> Page)> RunObjectsAsync(
        ObjectSearchRequest request, SearchScope scope, int position, int size, bool withStats, CancellationToken cancellationToken)
    {
        var plan = SearchPlans.Objects(request, scope);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = connection.BeginTransaction(deferred: true);
            await using (transaction.ConfigureAwait(false))
            {
                if (plan.Empty)
                    return (0, withStats ? new ObjectSearchStats(null, null, []) : null, new SearchPage<ObjectHit>([], null));
                long total = 0;
                ObjectSearchStats? stats = null;
                if (withStats)
                    (total, stats) = await ObjectTotalsAsync(connection, plan, cancellationToken).ConfigureAwait(false);
                var hits = new List<ObjectHit>();
                using (var command = connection.CreateCommand())
                {
                    // The page's ids and scores first (a materialized CTE), so the indexed text is read for those rows only.
                    command.CommandText = $"""
                        WITH page AS MATERIALIZED (
                            SELECT o.id AS id, {plan.Score} AS score FROM {plan.From} WHERE {plan.Where}
                            ORDER BY {SearchPlans.ObjectOrder(request.Order, plan.Score)} LIMIT $limit OFFSET $offset)
                        SELECT o.id, o.bucket, o.key, o.version, o.size, o.modified, o.deleted, page.score,
                            CASE WHEN o.has_text = 1 THEN (SELECT substr(f.content, 1, {IndexedContentChars}) FROM objects_fts f WHERE f.rowid = o.id) END
                        FROM page JOIN objects o ON o.id = page.id ORDER BY {SearchPlans.ObjectOrder(request.Order, "page.score")};
                        """;
                    plan.Parameters.ApplyTo(command);
                    command.Parameters.AddWithValue("$limit", size + 1);
                    command.Parameters.AddWithValue("$offset", position);
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            var bucket = reader.GetString(1);
                            var key = reader.GetString(2);
                            hits.Add(new ObjectHit(
                                Id: $"{bucket}/{key}",
                                Score: reader.GetDouble(7),
                                Bucket: bucket,
                                Key: key,
                                Version: reader.IsDBNull(3) ? "" : reader.GetString(3),
                                Size: reader.GetInt64(4),
                                Modified: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                                Deleted: reader.GetInt64(6) == 1,
                                IndexedContent: reader.IsDBNull(8) ? null : reader.GetString(8)));
                        }
                    }
                }
                var more = hits.Count > size;
                if (more)
                    hits.RemoveAt(hits.Count - 1);
                var cursor = hits.Count > 0 && more
                    ? _cursors.Issue(SearchCursors.ObjectsKind, scope, position + hits.Count, null, request)
                    : null;
                return (total, stats, new SearchPage<ObjectHit>(hits, cursor));
            }
        }
    }

    /// <summary>Runs a search, turning a search string FTS5 still refuses (the parser should have caught it) into a clear error.</summary>
    private static async Task<T> FtsAsync<T>(Func<Task<T>> run)
    {
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1 && e.Message.Contains("fts5", StringComparison.OrdinalIgnoreCase))
        {
            throw new SearchQueryException($"The search string cannot be run: {e.Message}. Quote unusual words.", e) { Field = "searchString" };
        }
    }

    private static async Task FtsAsync(Func<Task> run)
    {
        try
        {
            await run().ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1 && e.Message.Contains("fts5", StringComparison.OrdinalIgnoreCase))
        {
            throw new SearchQueryException($"The search string cannot be run: {e.Message}. Quote unusual words.", e) { Field = "searchString" };
        }
    }

    /// <summary>
    /// The total and the facets that cover every hit (extents, workflows), in one pass over the hits grouped by
    /// workflow; the metadata facets are added from the ranked sample.
    /// </summary>
    private static Task<(long Total, PackageSearchStats Stats)> PackageTotalsAsync(SqliteConnection connection, SearchPlan plan, CancellationToken cancellationToken) =>
        FtsAsync(async () =>
        {
            long total = 0;
            long? modifiedMin = null, modifiedMax = null, sizeMin = null, sizeMax = null, entriesMin = null, entriesMax = null;
            var workflows = new List<string>();
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT r.workflow_id, count(*), min(r.modified), max(r.modified), min(r.size), max(r.size), min(r.entries), max(r.entries)
                FROM {plan.From} WHERE {plan.Where} GROUP BY r.workflow_id ORDER BY count(*) DESC, r.workflow_id;
                """;
            plan.Parameters.ApplyTo(command);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    total += reader.GetInt64(1);
                    modifiedMin = Min(modifiedMin, reader.GetInt64(2));
                    modifiedMax = Max(modifiedMax, reader.GetInt64(3));
                    sizeMin = Min(sizeMin, reader.GetInt64(4));
                    sizeMax = Max(sizeMax, reader.GetInt64(5));
                    entriesMin = Min(entriesMin, reader.GetInt64(6));
                    entriesMax = Max(entriesMax, reader.GetInt64(7));
                    if (!reader.IsDBNull(0) && workflows.Count < MaxFacetValues)
                        workflows.Add(reader.GetString(0));
                }
            }
            var stats = total == 0
                ? EmptyPackageStats
                : new PackageSearchStats(
                    new DateExtents(DateTimeOffset.FromUnixTimeMilliseconds(modifiedMin!.Value), DateTimeOffset.FromUnixTimeMilliseconds(modifiedMax!.Value)),
                    new NumberExtents(sizeMin!.Value, sizeMax!.Value), new NumberExtents(entriesMin!.Value, entriesMax!.Value), workflows, [], false);
            return (total, stats);
        });

    /// <summary>The total and the facets of an object search, in one pass over the hits grouped by extension.</summary>
    private static Task<(long Total, ObjectSearchStats Stats)> ObjectTotalsAsync(SqliteConnection connection, SearchPlan plan, CancellationToken cancellationToken) =>
        FtsAsync(async () =>
        {
            long total = 0;
            long? modifiedMin = null, modifiedMax = null, sizeMin = null, sizeMax = null;
            var extensions = new List<string>();
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT o.ext, count(*), min(o.modified), max(o.modified), min(o.size), max(o.size)
                FROM {plan.From} WHERE {plan.Where} GROUP BY o.ext ORDER BY count(*) DESC, o.ext;
                """;
            plan.Parameters.ApplyTo(command);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    total += reader.GetInt64(1);
                    modifiedMin = Min(modifiedMin, reader.GetInt64(2));
                    modifiedMax = Max(modifiedMax, reader.GetInt64(3));
                    sizeMin = Min(sizeMin, reader.GetInt64(4));
                    sizeMax = Max(sizeMax, reader.GetInt64(5));
                    if (reader.GetString(0) is { Length: > 0 } ext && extensions.Count < MaxFacetValues)
                        extensions.Add(ext);
                }
            }
            var stats = total == 0
                ? new ObjectSearchStats(null, null, [])
                : new ObjectSearchStats(new DateExtents(DateTimeOffset.FromUnixTimeMilliseconds(modifiedMin!.Value), DateTimeOffset.FromUnixTimeMilliseconds(modifiedMax!.Value)),
                    new NumberExtents(sizeMin!.Value, sizeMax!.Value), extensions);
            return (total, stats);
        });

    private static long Min(long? current, long value) => current is { } c && c < value ? c : value;

    private static long Max(long? current, long value) => current is { } c && c > value ? c : value;

    /// <summary>Puts the first <see cref="MaxFacetSample"/> hits in the search's order (id, score) in a temporary table, position by position.</summary>
    private static Task RankAsync(SqliteConnection connection, SearchPlan plan, string idColumn, string order, CancellationToken cancellationToken) =>
        FtsAsync(async () =>
        {
            await ExecuteAsync(connection,
                "DROP TABLE IF EXISTS temp.search_ranked; CREATE TEMP TABLE search_ranked(pos INTEGER PRIMARY KEY, id INTEGER NOT NULL, score REAL NOT NULL);",
                cancellationToken).ConfigureAwait(false);
            // Rows are inserted in the ORDER BY's order, so pos (the rowid) numbers them from 1.
            await ExecuteAsync(connection,
                $"INSERT INTO temp.search_ranked(id, score) SELECT {idColumn}, {plan.Score} FROM {plan.From} WHERE {plan.Where} ORDER BY {order} LIMIT {MaxFacetSample + 1};",
                cancellationToken, plan.Parameters).ConfigureAwait(false);
        });

    /// <summary>The metadata facets of the ranked sample (its first <see cref="MaxFacetSample"/> hits).</summary>
    private static async Task<(List<UserMetaFacet> Facets, bool Truncated)> MetaFacetsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var sample = $"FROM temp.search_ranked k CROSS JOIN revision_meta m ON m.revision_id = k.id WHERE k.pos <= {MaxFacetSample}";
        var facets = new List<(string Path, MetaFieldType Type, double? Min, double? Max, long Distinct)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                SELECT m.path, m.type, min(m.num), max(m.num), count(DISTINCT m.text), count(DISTINCT m.revision_id) AS seen
                {sample} GROUP BY m.path, m.type ORDER BY seen DESC, m.path, m.type LIMIT {MaxMetaFacets + 1};
                """;
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    facets.Add((reader.GetString(0), (MetaFieldType)reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetDouble(2),
                        reader.IsDBNull(3) ? null : reader.GetDouble(3), reader.GetInt64(4)));
                }
            }
        }
        var truncated = facets.Count > MaxMetaFacets;
        var listed = facets.Take(MaxMetaFacets).ToList();

        // The values of every few-valued keyword field, in one query.
        var keywordPaths = listed.Where(f => f.Type == MetaFieldType.Keyword && f.Distinct <= MaxFacetKeywords).Select(f => f.Path).ToList();
        var keywords = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (keywordPaths.Count > 0)
        {
            using var command = connection.CreateCommand();
            var parameters = new SqlParameters();
            command.CommandText = $"""
                SELECT DISTINCT m.path, m.text {sample} AND m.type = {(int)MetaFieldType.Keyword}
                AND m.path IN ({string.Join(", ", keywordPaths.Select(path => parameters.Add(path)))}) ORDER BY m.path, m.text;
                """;
            parameters.ApplyTo(command);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var path = reader.GetString(0);
                    if (!keywords.TryGetValue(path, out var values))
                        keywords[path] = values = [];
                    values.Add(reader.GetString(1));
                }
            }
        }

        var userMeta = new List<UserMetaFacet>();
        foreach (var facet in listed.OrderBy(f => f.Path, StringComparer.Ordinal).ThenBy(f => f.Type))
        {
            userMeta.Add(facet.Type switch
            {
                MetaFieldType.Number => new UserMetaFacet(facet.Path, facet.Type, true, Number: new NumberExtents(facet.Min ?? 0, facet.Max ?? 0)),
                MetaFieldType.Datetime => new UserMetaFacet(facet.Path, facet.Type, true,
                    Datetime: new DateExtents(DateTimeOffset.FromUnixTimeMilliseconds((long)(facet.Min ?? 0)), DateTimeOffset.FromUnixTimeMilliseconds((long)(facet.Max ?? 0)))),
                MetaFieldType.Keyword when facet.Distinct <= MaxFacetKeywords => new UserMetaFacet(facet.Path, facet.Type, true, Keywords: keywords.GetValueOrDefault(facet.Path, [])),
                _ => new UserMetaFacet(facet.Path, facet.Type, facet.Type == MetaFieldType.Keyword),
            });
        }
        return (userMeta, truncated);
    }

    /// <summary>
    /// Refuses a metadata predicate whose field the revisions in scope hold, but never as a type the predicate can
    /// match (a number range on a field that is always a string), which would otherwise quietly match nothing. Only
    /// the caller's scope is looked at (not the other filters), and a field no revision has is not refused.
    /// </summary>
    private static async Task CheckMetaTypesAsync(SqliteConnection connection, SearchPlan plan, CancellationToken cancellationToken)
    {
        foreach (var check in plan.MetaChecks ?? [])
        {
            if (MetaFieldTypes.MatchedBy(check.Type) is not { } accepted)
                continue; // a text predicate can match any field
            // Usually the first probe of the (revision, path, type) index answers; the types are listed only to refuse.
            if (await MetaTypesAsync(connection, plan, check.Path, accepted, stopAtFirst: true, cancellationToken).ConfigureAwait(false) is { Count: > 0 })
                continue;
            var present = await MetaTypesAsync(connection, plan, check.Path, null, stopAtFirst: false, cancellationToken).ConfigureAwait(false);
            if (present.Count == 0)
                continue;
            var names = present.Select(TypeName).ToList();
            throw new SearchQueryException(
                $"{check.Field}: metadata field {check.Path} is {string.Join(" or ", names)} here, not {TypeName(check.Type)}. Use a {names[0]} predicate for it.")
            {
                Field = check.Field,
            };
        }
    }

    private static async Task<List<MetaFieldType>> MetaTypesAsync(SqliteConnection connection, SearchPlan plan, string path, IReadOnlyList<MetaFieldType>? types,
        bool stopAtFirst, CancellationToken cancellationToken)
    {
        var found = new List<MetaFieldType>();
        using var command = connection.CreateCommand();
        var typeCondition = types is null ? "" : $" AND m.type IN ({string.Join(", ", types.Select(t => (int)t))})";
        command.CommandText = stopAtFirst
            ? $"SELECT m.type FROM revision_meta m JOIN revisions r ON r.id = m.revision_id WHERE m.path = $checkPath{typeCondition} AND {plan.Scope} LIMIT 1;"
            : $"SELECT DISTINCT m.type FROM revision_meta m JOIN revisions r ON r.id = m.revision_id WHERE m.path = $checkPath{typeCondition} AND {plan.Scope} ORDER BY m.type;";
        plan.Parameters.ApplyTo(command);
        command.Parameters.AddWithValue("$checkPath", path);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                found.Add((MetaFieldType)reader.GetInt32(0));
        }
        return found;
    }

    private static string TypeName(MetaFieldType type) => type.ToString().ToLowerInvariant();

    private static async Task<List<string>> StringsAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqlParameters? parameters = null)
    {
        var values = new List<string>();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        parameters?.ApplyTo(command);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                values.Add(reader.GetString(0));
        }
        return values;
    }

    /// <summary>
    /// Which columns of each page hit the search string matched in (FTS5's highlight marks the matched phrases). The
    /// rowids filter the matches (<c>+rowid</c>) rather than drive ten lookups, each of which would seek every term's doclist.
    /// </summary>
    private static async Task<Dictionary<long, PackageMatchLocations>> PackageLocationsAsync(SqliteConnection connection, SearchPlan plan, List<long> ids, CancellationToken cancellationToken)
    {
        var locations = new Dictionary<long, PackageMatchLocations>();
        if (plan.Match is null || ids.Count == 0)
            return locations;
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT rowid,
                coalesce(instr(highlight(revisions_fts, 0, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(revisions_fts, 1, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(revisions_fts, 2, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(revisions_fts, 3, char(1), ''), char(1)), 0) > 0
            FROM revisions_fts WHERE revisions_fts MATCH $match AND +rowid IN ({string.Join(", ", ids)});
            """;
        command.Parameters.AddWithValue("$match", plan.Match);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                locations[reader.GetInt64(0)] = new PackageMatchLocations(reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4));
        }
        return locations;
    }

    /// <summary>
    /// Per revision of the page, its entries holding any word the search string looks for in entries (unfielded or
    /// <c>entry:</c>): one prepared statement, run once per revision with its token (each run stops at the limit).
    /// </summary>
    private static async Task<Dictionary<long, IReadOnlyList<PackageMatchingEntry>>> MatchingEntriesAsync(SqliteConnection connection, SearchExpression expression,
        List<long> revisionIds, CancellationToken cancellationToken)
    {
        var found = new Dictionary<long, IReadOnlyList<PackageMatchingEntry>>();
        var words = FtsTranslator.PositiveLeaves(expression)
            .Where(leaf => FtsTranslator.Field(leaf) is null or "entry")
            .Select(leaf => "{logical_key physical_key meta} : " + FtsTranslator.Phrase(leaf))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (words.Count == 0 || revisionIds.Count == 0)
            return found;
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT e.logical_key, e.physical_key, e.size, e.meta,
                coalesce(instr(highlight(entries_fts, 1, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(entries_fts, 2, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(entries_fts, 3, char(1), ''), char(1)), 0) > 0
            FROM entries_fts CROSS JOIN entries e ON e.id = entries_fts.rowid
            WHERE entries_fts MATCH $match ORDER BY e.logical_key LIMIT {MaxMatchingEntries};
            """;
        var match = command.Parameters.Add("$match", SqliteType.Text);
        var alternatives = string.Join(" OR ", words);
        foreach (var revisionId in revisionIds)
        {
            match.Value = $"{{rev}} : \"{RevisionToken(revisionId)}\" AND ({alternatives})";
            var entries = new List<PackageMatchingEntry>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    entries.Add(new PackageMatchingEntry(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                        new EntryMatchLocations(reader.GetBoolean(4), reader.GetBoolean(5), reader.GetBoolean(6), false)));
                }
            }
            if (entries.Count > 0)
                found[revisionId] = entries;
        }
        return found;
    }
}
