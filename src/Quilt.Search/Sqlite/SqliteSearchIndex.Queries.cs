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
        var order = SearchPlans.PackageOrder(request.Order);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // One read transaction: the count, the facets and the page see the same snapshot.
            var transaction = connection.BeginTransaction(deferred: true);
            await using (transaction.ConfigureAwait(false))
            {
                var total = await CollectHitsAsync(connection, plan, "r.id", cancellationToken).ConfigureAwait(false);
                var stats = withStats ? await PackageStatsAsync(connection, cancellationToken).ConfigureAwait(false) : null;
                var hits = new List<PackageHit>();
                var rows = new List<(long Id, PackageHit Hit)>();
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = $"""
                        SELECT r.id, r.bucket, r.name, r.hash, r.pointer, r.modified, r.is_latest, r.comment, r.user_meta, r.workflow, r.size, r.entries, h.score
                        FROM temp.search_hits h JOIN revisions r ON r.id = h.id ORDER BY {order} LIMIT $limit OFFSET $offset;
                        """;
                    command.Parameters.AddWithValue("$limit", size);
                    command.Parameters.AddWithValue("$offset", position);
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
                }
                var locations = await PackageLocationsAsync(connection, plan, rows.Select(r => r.Id).ToList(), cancellationToken).ConfigureAwait(false);
                foreach (var (id, hit) in rows)
                {
                    var entries = await MatchingEntriesAsync(connection, plan.Expression, id, cancellationToken).ConfigureAwait(false);
                    hits.Add(hit with { MatchLocations = locations.GetValueOrDefault(id, hit.MatchLocations), MatchingEntries = entries });
                }
                var next = position + hits.Count;
                var cursor = hits.Count > 0 && next < total
                    ? _cursors.Issue(SearchCursors.PackagesKind, scope, next, request, null)
                    : null;
                return (total, stats, new SearchPage<PackageHit>(hits, cursor));
            }
        }
    }

    private async Task<(long Total, ObjectSearchStats? Stats, SearchPage<ObjectHit> Page)> RunObjectsAsync(
        ObjectSearchRequest request, SearchScope scope, int position, int size, bool withStats, CancellationToken cancellationToken)
    {
        var plan = SearchPlans.Objects(request, scope);
        var order = SearchPlans.ObjectOrder(request.Order);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = connection.BeginTransaction(deferred: true);
            await using (transaction.ConfigureAwait(false))
            {
                var total = await CollectHitsAsync(connection, plan, "o.id", cancellationToken).ConfigureAwait(false);
                var stats = withStats ? await ObjectStatsAsync(connection, cancellationToken).ConfigureAwait(false) : null;
                var hits = new List<ObjectHit>();
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = $"""
                        SELECT o.id, o.bucket, o.key, o.version, o.size, o.modified, o.deleted, h.score,
                            CASE WHEN o.has_text = 1 THEN (SELECT substr(f.content, 1, {IndexedContentChars}) FROM objects_fts f WHERE f.rowid = o.id) END
                        FROM temp.search_hits h JOIN objects o ON o.id = h.id ORDER BY {order} LIMIT $limit OFFSET $offset;
                        """;
                    command.Parameters.AddWithValue("$limit", size);
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
                var next = position + hits.Count;
                var cursor = hits.Count > 0 && next < total
                    ? _cursors.Issue(SearchCursors.ObjectsKind, scope, next, null, request)
                    : null;
                return (total, stats, new SearchPage<ObjectHit>(hits, cursor));
            }
        }
    }

    /// <summary>Puts every hit (id, score) in a temporary table, so count, facets and page read them once.</summary>
    private static async Task<long> CollectHitsAsync(SqliteConnection connection, SearchPlan plan, string idColumn, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "DROP TABLE IF EXISTS temp.search_hits; CREATE TEMP TABLE search_hits(id INTEGER PRIMARY KEY, score REAL NOT NULL);", cancellationToken).ConfigureAwait(false);
        if (plan.Empty)
            return 0;
        try
        {
            await ExecuteAsync(connection, $"INSERT INTO temp.search_hits(id, score) SELECT {idColumn}, {plan.Score} FROM {plan.From} WHERE {plan.Where};", cancellationToken, plan.Parameters).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1 && e.Message.Contains("fts5", StringComparison.OrdinalIgnoreCase))
        {
            // A search string FTS5 still refuses (the parser should have caught it): say so instead of failing the call.
            throw new SearchQueryException($"The search string cannot be run: {e.Message}. Quote unusual words.", e) { Field = "searchString" };
        }
        return Convert.ToInt64(await ScalarAsync(connection, "SELECT count(*) FROM temp.search_hits;", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static async Task<PackageSearchStats> PackageStatsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        DateExtents? modified = null;
        NumberExtents? size = null, entries = null;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT min(r.modified), max(r.modified), min(r.size), max(r.size), min(r.entries), max(r.entries) FROM temp.search_hits h JOIN revisions r ON r.id = h.id;";
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0))
                {
                    modified = new DateExtents(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
                    size = new NumberExtents(reader.GetInt64(2), reader.GetInt64(3));
                    entries = new NumberExtents(reader.GetInt64(4), reader.GetInt64(5));
                }
            }
        }
        var workflows = await StringsAsync(connection,
            $"SELECT r.workflow_id FROM temp.search_hits h JOIN revisions r ON r.id = h.id WHERE r.workflow_id IS NOT NULL GROUP BY r.workflow_id ORDER BY count(*) DESC, r.workflow_id LIMIT {MaxFacetValues};",
            cancellationToken).ConfigureAwait(false);

        var facets = new List<(string Path, MetaFieldType Type, double? Min, double? Max, long Distinct)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                SELECT m.path, m.type, min(m.num), max(m.num), count(DISTINCT m.text), count(DISTINCT m.revision_id) AS seen
                FROM temp.search_hits h JOIN revision_meta m ON m.revision_id = h.id
                GROUP BY m.path, m.type ORDER BY seen DESC, m.path, m.type LIMIT {MaxMetaFacets + 1};
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
        var userMeta = new List<UserMetaFacet>();
        foreach (var facet in facets.Take(MaxMetaFacets).OrderBy(f => f.Path, StringComparer.Ordinal).ThenBy(f => f.Type))
        {
            switch (facet.Type)
            {
                case MetaFieldType.Number:
                    userMeta.Add(new UserMetaFacet(facet.Path, facet.Type, true, Number: new NumberExtents(facet.Min ?? 0, facet.Max ?? 0)));
                    break;
                case MetaFieldType.Datetime:
                    userMeta.Add(new UserMetaFacet(facet.Path, facet.Type, true,
                        Datetime: new DateExtents(DateTimeOffset.FromUnixTimeMilliseconds((long)(facet.Min ?? 0)), DateTimeOffset.FromUnixTimeMilliseconds((long)(facet.Max ?? 0)))));
                    break;
                case MetaFieldType.Keyword when facet.Distinct <= MaxFacetKeywords:
                    var parameters = new SqlParameters();
                    var keywords = await StringsAsync(connection,
                        $"SELECT DISTINCT m.text FROM temp.search_hits h JOIN revision_meta m ON m.revision_id = h.id WHERE m.path = {parameters.Add(facet.Path)} AND m.type = {(int)MetaFieldType.Keyword} ORDER BY m.text;",
                        cancellationToken, parameters).ConfigureAwait(false);
                    userMeta.Add(new UserMetaFacet(facet.Path, facet.Type, true, Keywords: keywords));
                    break;
                default:
                    userMeta.Add(new UserMetaFacet(facet.Path, facet.Type, facet.Type == MetaFieldType.Keyword));
                    break;
            }
        }
        return new PackageSearchStats(modified, size, entries, workflows, userMeta, truncated);
    }

    private static async Task<ObjectSearchStats> ObjectStatsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        DateExtents? modified = null;
        NumberExtents? size = null;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT min(o.modified), max(o.modified), min(o.size), max(o.size) FROM temp.search_hits h JOIN objects o ON o.id = h.id;";
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0))
                {
                    modified = new DateExtents(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
                    size = new NumberExtents(reader.GetInt64(2), reader.GetInt64(3));
                }
            }
        }
        var extensions = await StringsAsync(connection,
            $"SELECT o.ext FROM temp.search_hits h JOIN objects o ON o.id = h.id WHERE o.ext <> '' GROUP BY o.ext ORDER BY count(*) DESC, o.ext LIMIT {MaxFacetValues};",
            cancellationToken).ConfigureAwait(false);
        return new ObjectSearchStats(modified, size, extensions);
    }

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

    /// <summary>Which columns of each page hit the search string matched in (FTS5's highlight marks the matched phrases).</summary>
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
            FROM revisions_fts WHERE revisions_fts MATCH $match AND rowid IN ({string.Join(", ", ids)});
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

    /// <summary>Entries of one revision holding any word the search string looks for in entries (unfielded or <c>entry:</c>).</summary>
    private static async Task<IReadOnlyList<PackageMatchingEntry>> MatchingEntriesAsync(SqliteConnection connection, SearchExpression expression, long revisionId, CancellationToken cancellationToken)
    {
        var words = FtsTranslator.PositiveLeaves(expression)
            .Where(leaf => FtsTranslator.Field(leaf) is null or "entry")
            .Select(leaf => "{logical_key physical_key meta} : " + FtsTranslator.Phrase(leaf))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (words.Count == 0)
            return [];
        var entries = new List<PackageMatchingEntry>();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT e.logical_key, e.physical_key, e.size, e.meta,
                coalesce(instr(highlight(entries_fts, 1, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(entries_fts, 2, char(1), ''), char(1)), 0) > 0,
                coalesce(instr(highlight(entries_fts, 3, char(1), ''), char(1)), 0) > 0
            FROM entries_fts JOIN entries e ON e.id = entries_fts.rowid
            WHERE entries_fts MATCH $match ORDER BY e.logical_key LIMIT {MaxMatchingEntries};
            """;
        command.Parameters.AddWithValue("$match", $"{{rev}} : \"{RevisionToken(revisionId)}\" AND ({string.Join(" OR ", words)})");
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new PackageMatchingEntry(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    new EntryMatchLocations(reader.GetBoolean(4), reader.GetBoolean(5), reader.GetBoolean(6), false)));
            }
        }
        return entries;
    }
}
