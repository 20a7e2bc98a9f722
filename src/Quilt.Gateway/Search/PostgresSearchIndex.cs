using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Quilt.Search;
using Quilt.Search.Query;

namespace Quilt.Gateway.Search;

/// <summary>
/// The gateway's search index in PostgreSQL (full text: <c>tsvector</c> columns with GIN indexes), shared by every
/// gateway instance that names the same database (<c>audit.postgres</c>). Words are cut by <see cref="IndexText"/>;
/// the search string is parsed by <see cref="SearchQueryParser"/> and each word or phrase becomes a tsquery on the
/// field it names (or on the whole document), joined by SQL's AND/OR/NOT. The scope is part of every WHERE clause,
/// so totals, facets and pages count only what the caller may see. Cursors (<see cref="SearchCursors"/>, as the embedded
/// index's) carry the search, the offset of the next page and the fingerprint of the scope they were made for, sealed
/// under a key kept in the database, so that every instance opens every instance's cursors.
/// </summary>
public sealed class PostgresSearchIndex : ISearchIndex
{
    /// <summary>
    /// The fields a package search string may name, as the embedded index has them (<c>message</c> is <c>comment</c>;
    /// <c>entry</c>: entries' logical keys and metadata; <c>meta.</c>: any metadata path, <c>meta.run.id</c>).
    /// </summary>
    public static readonly IReadOnlyList<string> PackageFields = ["name", "comment", "message", "meta", "meta.", "workflow", "entry"];

    /// <summary>The fields an object search string may name (<c>text</c> is <c>content</c>).</summary>
    public static readonly IReadOnlyList<string> ObjectFields = ["key", "ext", "content", "text"];

    /// <summary>The most hits on one page.</summary>
    public const int MaxPageSize = 1000;

    private const int MatchingEntriesPerHit = 10;
    private const int IndexedContentChars = 1000;
    private const long SchemaLock = 0x5155494c54_5352;

    private readonly NpgsqlDataSource _dataSource;
    private readonly SearchCursors _cursors;

    private PostgresSearchIndex(NpgsqlDataSource dataSource, byte[] cursorKey)
    {
        _dataSource = dataSource;
        _cursors = new SearchCursors(cursorKey);
    }

    /// <summary>Opens the index in the database <paramref name="connectionString"/> names, creating its tables when missing.</summary>
    public static async Task<PostgresSearchIndex> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
            builder.MaxPoolSize = 10;
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            return new PostgresSearchIndex(dataSource, await CreateSchemaAsync(dataSource, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates the tables when missing; returns the key cursors are sealed with (made once, shared by every instance).</summary>
    private static async Task<byte[]> CreateSchemaAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Several instances may start at once: the schema is created under one advisory lock.
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({SchemaLock})", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS search_packages (
                  bucket TEXT NOT NULL,
                  name TEXT NOT NULL,
                  hash TEXT NOT NULL,
                  pointer TEXT NOT NULL,
                  modified TIMESTAMPTZ NOT NULL,
                  is_latest BOOLEAN NOT NULL,
                  comment TEXT NULL,
                  user_meta TEXT NULL,
                  workflow TEXT NULL,
                  workflow_id TEXT NULL,
                  size BIGINT NOT NULL,
                  entries_count INTEGER NOT NULL,
                  name_tsv TSVECTOR NOT NULL,
                  comment_tsv TSVECTOR NOT NULL,
                  meta_tsv TSVECTOR NOT NULL,
                  workflow_tsv TSVECTOR NOT NULL,
                  keys_tsv TSVECTOR NOT NULL,
                  doc TSVECTOR NOT NULL,
                  PRIMARY KEY (bucket, name, hash)
                );
                CREATE INDEX IF NOT EXISTS search_packages_doc ON search_packages USING GIN (doc);
                CREATE INDEX IF NOT EXISTS search_packages_name_tsv ON search_packages USING GIN (name_tsv);
                CREATE INDEX IF NOT EXISTS search_packages_comment_tsv ON search_packages USING GIN (comment_tsv);
                CREATE INDEX IF NOT EXISTS search_packages_keys_tsv ON search_packages USING GIN (keys_tsv);
                CREATE INDEX IF NOT EXISTS search_packages_modified ON search_packages (modified);
                CREATE TABLE IF NOT EXISTS search_package_entries (
                  bucket TEXT NOT NULL,
                  name TEXT NOT NULL,
                  hash TEXT NOT NULL,
                  logical_key TEXT NOT NULL,
                  physical_key TEXT NOT NULL,
                  size BIGINT NOT NULL,
                  meta TEXT NULL,
                  key_tsv TSVECTOR NOT NULL,
                  meta_tsv TSVECTOR NOT NULL,
                  PRIMARY KEY (bucket, name, hash, logical_key)
                );
                CREATE TABLE IF NOT EXISTS search_package_meta (
                  bucket TEXT NOT NULL,
                  name TEXT NOT NULL,
                  hash TEXT NOT NULL,
                  path TEXT NOT NULL,
                  type TEXT NOT NULL,
                  num DOUBLE PRECISION NULL,
                  date TIMESTAMPTZ NULL,
                  keyword TEXT NULL,
                  bool BOOLEAN NULL,
                  text_tsv TSVECTOR NOT NULL
                );
                CREATE INDEX IF NOT EXISTS search_package_meta_revision ON search_package_meta (bucket, name, hash);
                CREATE INDEX IF NOT EXISTS search_package_meta_path ON search_package_meta (path, type);
                CREATE TABLE IF NOT EXISTS search_objects (
                  bucket TEXT NOT NULL,
                  key TEXT NOT NULL,
                  version TEXT NULL,
                  size BIGINT NOT NULL,
                  modified TIMESTAMPTZ NOT NULL,
                  etag TEXT NULL,
                  deleted BOOLEAN NOT NULL,
                  ext TEXT NOT NULL,
                  content TEXT NULL,
                  key_tsv TSVECTOR NOT NULL,
                  content_tsv TSVECTOR NOT NULL,
                  doc TSVECTOR NOT NULL,
                  PRIMARY KEY (bucket, key)
                );
                CREATE INDEX IF NOT EXISTS search_objects_doc ON search_objects USING GIN (doc);
                CREATE INDEX IF NOT EXISTS search_objects_content_tsv ON search_objects USING GIN (content_tsv);
                CREATE INDEX IF NOT EXISTS search_objects_modified ON search_objects (modified);
                CREATE TABLE IF NOT EXISTS search_settings (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
                """, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, "INSERT INTO search_settings (name, value) VALUES ('cursor_key', @key) ON CONFLICT (name) DO NOTHING",
                cancellationToken, ("key", RandomNumberGenerator.GetBytes(32))).ConfigureAwait(false);
            await using var read = new NpgsqlCommand("SELECT value FROM search_settings WHERE name = 'cursor_key'", connection);
            return (byte[])(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({SchemaLock})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------------------------------------ writes

    /// <inheritdoc />
    public async Task UpsertPackageRevisionsAsync(IReadOnlyList<PackageRevisionDocument> revisions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revisions);
        if (revisions.Count == 0)
            return;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var r in revisions)
        {
            var metaText = string.Join(' ', IndexText.Flatten(r.UserMeta).Select(l => l.Text));
            var workflowId = r.Workflow is { ValueKind: JsonValueKind.Object } w && w.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            var keysText = string.Join(' ', r.Entries.Select(e => e.LogicalKey));
            var entryMetaText = string.Join(' ', r.Entries.Select(e => EntryUserMetaText(e.Meta)));
            await ExecuteAsync(connection, transaction, """
                DELETE FROM search_package_entries WHERE bucket = @bucket AND name = @name AND hash = @hash;
                DELETE FROM search_package_meta WHERE bucket = @bucket AND name = @name AND hash = @hash;
                INSERT INTO search_packages (bucket, name, hash, pointer, modified, is_latest, comment, user_meta, workflow, workflow_id, size,
                    entries_count, name_tsv, comment_tsv, meta_tsv, workflow_tsv, keys_tsv, doc)
                SELECT @bucket, @name, @hash, @pointer, @modified, @latest, @comment, @user_meta, @workflow, @workflow_id, @size, @entries,
                    n, c, m, w, k, setweight(n, 'A') || setweight(c, 'B') || setweight(m, 'C') || w || k
                FROM (SELECT to_tsvector('simple', @name_text) AS n, to_tsvector('simple', @comment_text) AS c,
                    to_tsvector('simple', @meta_text) AS m, to_tsvector('simple', @workflow_text) AS w, to_tsvector('simple', @keys_text) AS k) AS v
                ON CONFLICT (bucket, name, hash) DO UPDATE SET pointer = EXCLUDED.pointer, modified = EXCLUDED.modified,
                    is_latest = EXCLUDED.is_latest, comment = EXCLUDED.comment, user_meta = EXCLUDED.user_meta, workflow = EXCLUDED.workflow,
                    workflow_id = EXCLUDED.workflow_id, size = EXCLUDED.size, entries_count = EXCLUDED.entries_count, name_tsv = EXCLUDED.name_tsv,
                    comment_tsv = EXCLUDED.comment_tsv, meta_tsv = EXCLUDED.meta_tsv, workflow_tsv = EXCLUDED.workflow_tsv,
                    keys_tsv = EXCLUDED.keys_tsv, doc = EXCLUDED.doc;
                """, cancellationToken,
                ("bucket", r.Bucket), ("name", r.Name), ("hash", r.Hash), ("pointer", r.Pointer), ("modified", r.Modified.ToUniversalTime()),
                ("latest", r.IsLatest), ("comment", r.Comment), ("user_meta", r.UserMeta?.GetRawText()), ("workflow", r.Workflow?.GetRawText()),
                ("workflow_id", workflowId), ("size", r.Size), ("entries", r.Entries.Count), ("name_text", IndexText.Normalized(r.Name)),
                ("comment_text", IndexText.Normalized(r.Comment)), ("meta_text", IndexText.Normalized(metaText)),
                ("workflow_text", IndexText.Normalized(workflowId)), ("keys_text", IndexText.Normalized(keysText + " " + entryMetaText))).ConfigureAwait(false);
            if (r.Entries.Count > 0)
            {
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO search_package_entries (bucket, name, hash, logical_key, physical_key, size, meta, key_tsv, meta_tsv)
                    SELECT @bucket, @name, @hash, k, p, s, m, to_tsvector('simple', kt), to_tsvector('simple', mt)
                    FROM unnest(@keys, @physical, @sizes, @metas, @key_texts, @meta_texts) AS e(k, p, s, m, kt, mt)
                    ON CONFLICT DO NOTHING
                    """, cancellationToken,
                    ("bucket", r.Bucket), ("name", r.Name), ("hash", r.Hash),
                    ("keys", r.Entries.Select(e => e.LogicalKey).ToArray()), ("physical", r.Entries.Select(e => e.PhysicalKey).ToArray()),
                    ("sizes", r.Entries.Select(e => e.Size).ToArray()), ("metas", r.Entries.Select(e => e.Meta?.GetRawText()).ToArray()),
                    ("key_texts", r.Entries.Select(e => IndexText.Normalized(e.LogicalKey)).ToArray()),
                    ("meta_texts", r.Entries.Select(e => IndexText.Normalized(EntryUserMetaText(e.Meta))).ToArray())).ConfigureAwait(false);
            }
            var leaves = IndexText.Flatten(r.UserMeta);
            if (leaves.Count > 0)
            {
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO search_package_meta (bucket, name, hash, path, type, num, date, keyword, bool, text_tsv)
                    SELECT @bucket, @name, @hash, p, t, n, d, k, b, to_tsvector('simple', x)
                    FROM unnest(@paths, @types, @numbers, @dates, @keywords, @bools, @texts) AS l(p, t, n, d, k, b, x)
                    """, cancellationToken,
                    ("bucket", r.Bucket), ("name", r.Name), ("hash", r.Hash),
                    ("paths", leaves.Select(l => l.Path).ToArray()), ("types", leaves.Select(l => TypeName(l.Type)).ToArray()),
                    ("numbers", leaves.Select(l => l.Number).ToArray()), ("dates", leaves.Select(l => l.Date?.ToUniversalTime()).ToArray()),
                    ("keywords", leaves.Select(l => l.Keyword).ToArray()), ("bools", leaves.Select(l => l.Boolean).ToArray()),
                    ("texts", leaves.Select(l => IndexText.Normalized(l.Text)).ToArray())).ConfigureAwait(false);
            }
            if (r.IsLatest)
            {
                await ExecuteAsync(connection, transaction,
                    "UPDATE search_packages SET is_latest = FALSE WHERE bucket = @bucket AND name = @name AND hash <> @hash AND is_latest",
                    cancellationToken, ("bucket", r.Bucket), ("name", r.Name), ("hash", r.Hash)).ConfigureAwait(false);
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SetLatestAsync(string bucket, string name, string? hash, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (hash is null)
        {
            // The package is gone: so are its revisions, as far as search is concerned.
            await ExecuteAsync(connection, transaction, """
                DELETE FROM search_package_entries WHERE bucket = @bucket AND name = @name;
                DELETE FROM search_package_meta WHERE bucket = @bucket AND name = @name;
                DELETE FROM search_packages WHERE bucket = @bucket AND name = @name;
                """, cancellationToken, ("bucket", bucket), ("name", name)).ConfigureAwait(false);
        }
        else
        {
            await ExecuteAsync(connection, transaction,
                "UPDATE search_packages SET is_latest = (hash = @hash) WHERE bucket = @bucket AND name = @name AND is_latest <> (hash = @hash)",
                cancellationToken, ("bucket", bucket), ("name", name), ("hash", hash)).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RemovePackageRevisionsAsync(string bucket, string name, IReadOnlyList<string> hashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            DELETE FROM search_package_entries WHERE bucket = @bucket AND name = @name AND hash = ANY(@hashes);
            DELETE FROM search_package_meta WHERE bucket = @bucket AND name = @name AND hash = ANY(@hashes);
            DELETE FROM search_packages WHERE bucket = @bucket AND name = @name AND hash = ANY(@hashes);
            """, cancellationToken, ("bucket", bucket), ("name", name), ("hashes", hashes.ToArray())).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task UpsertObjectsAsync(IReadOnlyList<ObjectDocument> objects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(objects);
        if (objects.Count == 0)
            return;
        // One statement for the batch; the last document of a key wins, as if upserted one by one.
        var last = objects.GroupBy(o => (o.Bucket, o.Key)).Select(g => g.Last()).ToList();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            INSERT INTO search_objects (bucket, key, version, size, modified, etag, deleted, ext, content, key_tsv, content_tsv, doc)
            SELECT b, k, v, s, m, e, d, x, c, kt, ct, setweight(kt, 'A') || ct
            FROM (SELECT b, k, v, s, m, e, d, x, c, to_tsvector('simple', kn) AS kt, to_tsvector('simple', cn) AS ct
                  FROM unnest(@buckets, @keys, @versions, @sizes, @modified, @etags, @deleted, @exts, @contents, @key_texts, @content_texts)
                  AS o(b, k, v, s, m, e, d, x, c, kn, cn)) AS t
            ON CONFLICT (bucket, key) DO UPDATE SET version = EXCLUDED.version, size = EXCLUDED.size, modified = EXCLUDED.modified,
                etag = EXCLUDED.etag, deleted = EXCLUDED.deleted, ext = EXCLUDED.ext, content = EXCLUDED.content, key_tsv = EXCLUDED.key_tsv,
                content_tsv = EXCLUDED.content_tsv, doc = EXCLUDED.doc
            """, cancellationToken,
            ("buckets", last.Select(o => o.Bucket).ToArray()), ("keys", last.Select(o => o.Key).ToArray()),
            ("versions", last.Select(o => o.Version).ToArray()), ("sizes", last.Select(o => o.Size).ToArray()),
            ("modified", last.Select(o => o.Modified.ToUniversalTime()).ToArray()), ("etags", last.Select(o => o.ETag).ToArray()),
            ("deleted", last.Select(o => o.Deleted).ToArray()), ("exts", last.Select(o => IndexText.Extension(o.Key)).ToArray()),
            ("contents", last.Select(o => o.Text).ToArray()), ("key_texts", last.Select(o => IndexText.Normalized(o.Key)).ToArray()),
            ("content_texts", last.Select(o => IndexText.Normalized(o.Text)).ToArray())).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task RemoveObjectsAsync(string bucket, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
            return;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "DELETE FROM search_objects WHERE bucket = @bucket AND key = ANY(@keys)", cancellationToken,
            ("bucket", bucket), ("keys", keys.ToArray())).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------------------------------------ package search

    /// <inheritdoc />
    public async Task<PackageSearchResults> SearchPackagesAsync(PackageSearchRequest request, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(scope);
        CheckSize(request.Size);
        var query = PackageQuery.Build(request, scope);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await query.CheckMetaTypesAsync(connection, cancellationToken).ConfigureAwait(false);

        long total;
        DateExtents? modified = null;
        NumberExtents? size = null, entries = null;
        await using (var command = query.Command(connection,
            "SELECT count(*), min(p.modified), max(p.modified), min(p.size), max(p.size), min(p.entries_count), max(p.entries_count) FROM search_packages p WHERE " + query.Where))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            total = reader.GetInt64(0);
            if (total > 0)
            {
                modified = new DateExtents(Time(reader, 1), Time(reader, 2));
                size = new NumberExtents(reader.GetInt64(3), reader.GetInt64(4));
                entries = new NumberExtents(reader.GetInt32(5), reader.GetInt32(6));
            }
        }

        var workflows = new List<string>();
        var facets = new List<UserMetaFacet>();
        var truncated = false;
        if (total > 0)
        {
            await using (var command = query.Command(connection,
                $"SELECT p.workflow_id FROM search_packages p WHERE {query.Where} AND p.workflow_id IS NOT NULL GROUP BY p.workflow_id ORDER BY count(*) DESC, p.workflow_id LIMIT 50"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    workflows.Add(reader.GetString(0));
            }
            (facets, truncated) = await query.FacetsAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        var page = await PackagePageAsync(connection, query, request, 0, request.Size, scope, cancellationToken).ConfigureAwait(false);
        return new PackageSearchResults(total, new PackageSearchStats(modified, size, entries, workflows, facets, truncated), page);
    }

    /// <inheritdoc />
    public async Task<SearchPage<PackageHit>> MorePackagesAsync(string cursor, int size, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        CheckSize(size);
        var state = _cursors.Read(cursor, SearchCursors.PackagesKind, scope);
        var request = state.Packages ?? throw new SearchQueryException("This cursor holds no package search. Start the search again.") { Field = "cursor" };
        var query = PackageQuery.Build(request, scope);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await PackagePageAsync(connection, query, request, state.Position, size, scope, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SearchPage<PackageHit>> PackagePageAsync(NpgsqlConnection connection, PackageQuery query, PackageSearchRequest request,
        int offset, int size, SearchScope scope, CancellationToken cancellationToken)
    {
        var order = request.Order switch
        {
            SearchOrder.Newest => "p.modified DESC",
            SearchOrder.Oldest => "p.modified ASC",
            SearchOrder.LexAsc => "p.name COLLATE \"C\" ASC, p.modified DESC",
            SearchOrder.LexDesc => "p.name COLLATE \"C\" DESC, p.modified DESC",
            _ => "score DESC, p.modified DESC",
        };
        var any = query.AnyWords;
        var located = any is null
            ? "FALSE, FALSE, FALSE, FALSE"
            : "p.name_tsv @@ @any::tsquery, p.comment_tsv @@ @any::tsquery, p.meta_tsv @@ @any::tsquery, p.workflow_tsv @@ @any::tsquery";
        var sql = $"""
            SELECT p.bucket, p.name, p.hash, p.pointer, p.modified, p.is_latest, p.comment, p.user_meta, p.workflow, p.size, p.entries_count,
                {(any is null ? "0::real" : "ts_rank(p.doc, @any::tsquery)")} AS score, {located}
            FROM search_packages p WHERE {query.Where}
            ORDER BY {order}, p.bucket COLLATE "C", p.name COLLATE "C", p.hash
            LIMIT {size + 1} OFFSET {offset}
            """;
        var rows = new List<(PackageHit Hit, bool Latest)>();
        await using (var command = query.Command(connection, sql))
        {
            if (any is not null)
                command.Parameters.AddWithValue("any", any);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var bucket = reader.GetString(0);
                var name = reader.GetString(1);
                var hash = reader.GetString(2);
                var latest = reader.GetBoolean(5);
                rows.Add((new PackageHit(
                    Id: $"{bucket}/{name}@{hash}",
                    Score: reader.GetFloat(11),
                    Bucket: bucket,
                    Name: name,
                    Pointer: latest ? "latest" : reader.GetString(3),
                    Hash: hash,
                    Size: reader.GetInt64(9),
                    Modified: Time(reader, 4),
                    TotalEntriesCount: reader.GetInt32(10),
                    Comment: reader.IsDBNull(6) ? null : reader.GetString(6),
                    Meta: reader.IsDBNull(7) ? null : reader.GetString(7),
                    Workflow: reader.IsDBNull(8) ? null : Element(reader.GetString(8)),
                    MatchLocations: new PackageMatchLocations(reader.GetBoolean(12), reader.GetBoolean(13), reader.GetBoolean(14), reader.GetBoolean(15)),
                    MatchingEntries: []), latest));
            }
        }
        var more = rows.Count > size;
        if (more)
            rows.RemoveAt(rows.Count - 1);

        var hits = rows.Select(r => r.Hit).ToList();
        if (any is not null && hits.Count > 0)
        {
            var entries = await MatchingEntriesAsync(connection, hits, any, cancellationToken).ConfigureAwait(false);
            hits = [.. hits.Select(h => entries.TryGetValue(h.Id, out var list) ? h with { MatchingEntries = list } : h)];
        }
        var cursor = more ? _cursors.Issue(SearchCursors.PackagesKind, scope, offset + size, request, null) : null;
        return new SearchPage<PackageHit>(hits, cursor);
    }

    private static async Task<Dictionary<string, List<PackageMatchingEntry>>> MatchingEntriesAsync(NpgsqlConnection connection, List<PackageHit> hits,
        string any, CancellationToken cancellationToken)
    {
        var byId = new Dictionary<string, List<PackageMatchingEntry>>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand($"""
            SELECT h.b, h.n, h.h, e.logical_key, e.physical_key, e.size, e.meta, e.key_tsv @@ @any::tsquery, e.meta_tsv @@ @any::tsquery
            FROM unnest(@buckets, @names, @hashes) AS h(b, n, h)
            CROSS JOIN LATERAL (
              SELECT * FROM search_package_entries e
              WHERE e.bucket = h.b AND e.name = h.n AND e.hash = h.h AND (e.key_tsv @@ @any::tsquery OR e.meta_tsv @@ @any::tsquery)
              ORDER BY e.logical_key COLLATE "C" LIMIT {MatchingEntriesPerHit}) AS e
            """, connection);
        command.Parameters.AddWithValue("any", any);
        command.Parameters.AddWithValue("buckets", hits.Select(h => h.Bucket).ToArray());
        command.Parameters.AddWithValue("names", hits.Select(h => h.Name).ToArray());
        command.Parameters.AddWithValue("hashes", hits.Select(h => h.Hash).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var id = $"{reader.GetString(0)}/{reader.GetString(1)}@{reader.GetString(2)}";
            if (!byId.TryGetValue(id, out var list))
                byId[id] = list = [];
            list.Add(new PackageMatchingEntry(reader.GetString(3), reader.GetString(4), reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                new EntryMatchLocations(reader.GetBoolean(7), false, reader.GetBoolean(8), false)));
        }
        return byId;
    }

    // ------------------------------------------------------------------------------------------------ object search

    /// <inheritdoc />
    public async Task<ObjectSearchResults> SearchObjectsAsync(ObjectSearchRequest request, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(scope);
        CheckSize(request.Size);
        var query = ObjectQuery.Build(request, scope);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        long total;
        DateExtents? modified = null;
        NumberExtents? size = null;
        await using (var command = query.Command(connection, "SELECT count(*), min(o.modified), max(o.modified), min(o.size), max(o.size) FROM search_objects o WHERE " + query.Where))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            total = reader.GetInt64(0);
            if (total > 0)
            {
                modified = new DateExtents(Time(reader, 1), Time(reader, 2));
                size = new NumberExtents(reader.GetInt64(3), reader.GetInt64(4));
            }
        }
        var extensions = new List<string>();
        if (total > 0)
        {
            await using var command = query.Command(connection,
                $"SELECT o.ext FROM search_objects o WHERE {query.Where} AND o.ext <> '' GROUP BY o.ext ORDER BY count(*) DESC, o.ext LIMIT 50");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                extensions.Add(reader.GetString(0));
        }
        var page = await ObjectPageAsync(connection, query, request, 0, request.Size, scope, cancellationToken).ConfigureAwait(false);
        return new ObjectSearchResults(total, new ObjectSearchStats(modified, size, extensions), page);
    }

    /// <inheritdoc />
    public async Task<SearchPage<ObjectHit>> MoreObjectsAsync(string cursor, int size, SearchScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        CheckSize(size);
        var state = _cursors.Read(cursor, SearchCursors.ObjectsKind, scope);
        var request = state.Objects ?? throw new SearchQueryException("This cursor holds no object search. Start the search again.") { Field = "cursor" };
        var query = ObjectQuery.Build(request, scope);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ObjectPageAsync(connection, query, request, state.Position, size, scope, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SearchPage<ObjectHit>> ObjectPageAsync(NpgsqlConnection connection, ObjectQuery query, ObjectSearchRequest request,
        int offset, int size, SearchScope scope, CancellationToken cancellationToken)
    {
        var order = request.Order switch
        {
            SearchOrder.Newest => "o.modified DESC",
            SearchOrder.Oldest => "o.modified ASC",
            SearchOrder.LexAsc => "o.key COLLATE \"C\" ASC",
            SearchOrder.LexDesc => "o.key COLLATE \"C\" DESC",
            _ => "score DESC, o.modified DESC",
        };
        var any = query.AnyWords;
        var sql = $"""
            SELECT o.bucket, o.key, o.version, o.size, o.modified, o.deleted, left(o.content, {IndexedContentChars}),
                {(any is null ? "0::real" : "ts_rank(o.doc, @any::tsquery)")} AS score
            FROM search_objects o WHERE {query.Where}
            ORDER BY {order}, o.bucket COLLATE "C", o.key COLLATE "C"
            LIMIT {size + 1} OFFSET {offset}
            """;
        var hits = new List<ObjectHit>();
        await using (var command = query.Command(connection, sql))
        {
            if (any is not null)
                command.Parameters.AddWithValue("any", any);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var bucket = reader.GetString(0);
                var key = reader.GetString(1);
                hits.Add(new ObjectHit($"{bucket}/{key}", reader.GetFloat(7), bucket, key, reader.IsDBNull(2) ? "" : reader.GetString(2),
                    reader.GetInt64(3), Time(reader, 4), reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
            }
        }
        var more = hits.Count > size;
        if (more)
            hits.RemoveAt(hits.Count - 1);
        var cursor = more ? _cursors.Issue(SearchCursors.ObjectsKind, scope, offset + size, null, request) : null;
        return new SearchPage<ObjectHit>(hits, cursor);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void CheckSize(int size)
    {
        if (size is < 1 or > MaxPageSize)
            throw new SearchQueryException($"size {size} is out of range: ask for 1 to {MaxPageSize} hits per page.") { Field = "size" };
    }

    internal static string TypeName(MetaFieldType type) => type switch
    {
        MetaFieldType.Number => "number",
        MetaFieldType.Datetime => "datetime",
        MetaFieldType.Keyword => "keyword",
        MetaFieldType.Text => "text",
        _ => "boolean",
    };

    private static string EntryUserMetaText(JsonElement? meta) =>
        meta is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("user_meta", out var user)
            ? string.Join(' ', IndexText.Flatten(user).Select(l => l.Text))
            : "";

    private static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    private static JsonElement Element(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
            command.Parameters.Add(Parameter(name, value));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static NpgsqlParameter Parameter(string name, object? value) => value switch
    {
        // Arrays of nullable values need their element type spelled out: Npgsql cannot infer it from nulls.
        string?[] strings => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = strings },
        double?[] numbers => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Double) { Value = numbers },
        DateTimeOffset?[] dates => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = dates },
        bool?[] bools => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Boolean) { Value = bools },
        null => new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = DBNull.Value },
        _ => new NpgsqlParameter(name, value),
    };

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
