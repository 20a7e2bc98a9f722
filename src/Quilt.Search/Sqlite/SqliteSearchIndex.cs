using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Quilt.Search.Sqlite;

/// <summary>
/// The embedded index: one SQLite file with FTS5 tables for package revisions (per-field columns: name, comment,
/// metadata, workflow, entry keys, entry metadata), their entries and objects (key, text), and plain tables for what
/// filters and facets read (typed metadata leaves, sizes, times). Safe for several processes on one file (WAL, busy
/// timeout, each write one transaction); a file that is not a readable index is replaced by an empty one.
/// </summary>
public sealed partial class SqliteSearchIndex : ISearchIndex
{
    /// <summary>Checked against every field's stored types in scope, not a facet sample.</summary>
    public bool RefusesMistypedPredicates => true;

    private const int SchemaVersion = 2;

    /// <summary>Characters of a revision's entry keys and of its entries' metadata kept in its full-text row.</summary>
    internal const int MaxRevisionTextChars = 64 * 1024;

    /// <summary>Entries of one revision indexed for entry matches; the rest still count in its totals.</summary>
    internal const int MaxIndexedEntries = 10_000;

    private readonly string _connectionString;
    private readonly SearchCursors _cursors;

    private SqliteSearchIndex(string path, string connectionString, byte[] cursorKey, bool rebuilt)
    {
        FilePath = path;
        _connectionString = connectionString;
        _cursors = new SearchCursors(cursorKey);
        Rebuilt = rebuilt;
    }

    /// <summary>The index file.</summary>
    public string FilePath { get; }

    /// <summary>Whether opening found the file unreadable (corrupt, not an index, an older layout) and started it afresh.</summary>
    public bool Rebuilt { get; }

    /// <summary>Opens (or creates) the index in <paramref name="path"/>; a damaged file is replaced by an empty index.</summary>
    public static async Task<SqliteSearchIndex> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = 30,
            Pooling = true,
        }.ToString();
        var rebuilt = false;
        byte[] key;
        try
        {
            key = await InitializeAsync(connectionString, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (IsDamaged(e) || e.SqliteErrorCode == OlderLayout)
        {
            Delete(connectionString, path);
            rebuilt = true;
            key = await InitializeAsync(connectionString, cancellationToken).ConfigureAwait(false);
        }
        return new SqliteSearchIndex(path, connectionString, key, rebuilt);
    }

    /// <summary>Whether an error means the file is not a readable index (so it should be rebuilt).</summary>
    public static bool IsDamaged(SqliteException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.SqliteErrorCode is 11 /* SQLITE_CORRUPT */ or 26 /* SQLITE_NOTADB */;
    }

    private const int OlderLayout = -1000;

    private static void Delete(string connectionString, string path)
    {
        using (var connection = new SqliteConnection(connectionString))
            SqliteConnection.ClearPool(connection);
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
            File.Delete(file);
    }

    private static async Task<byte[]> InitializeAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
            var version = Convert.ToInt64(await ScalarAsync(connection, "PRAGMA user_version;", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            if (version != 0 && version != SchemaVersion)
                throw new SqliteException($"The index has layout {version}; this version writes {SchemaVersion}.", OlderLayout);
            var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, Schema, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"PRAGMA user_version={SchemaVersion};", cancellationToken).ConfigureAwait(false);
                using (var insert = connection.CreateCommand())
                {
                    insert.CommandText = "INSERT OR IGNORE INTO settings(name, value) VALUES ('cursor_key', $key);";
                    insert.Parameters.AddWithValue("$key", RandomNumberGenerator.GetBytes(32));
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                var key = (byte[])(await ScalarAsync(connection, "SELECT value FROM settings WHERE name = 'cursor_key';", cancellationToken).ConfigureAwait(false))!;
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return key;
            }
        }
    }

    // Times are unix milliseconds; metadata leaf types are MetaFieldType's numbers. The FTS tables keep their text (so
    // rows can be deleted and highlighted); their rowids are the ids of the rows they index.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS revisions(
            id INTEGER PRIMARY KEY, bucket TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL, pointer TEXT NOT NULL,
            modified INTEGER NOT NULL, is_latest INTEGER NOT NULL DEFAULT 0, comment TEXT, user_meta TEXT, workflow TEXT,
            workflow_id TEXT, size INTEGER NOT NULL, entries INTEGER NOT NULL, UNIQUE(bucket, name, hash));
        CREATE INDEX IF NOT EXISTS revisions_by_bucket ON revisions(bucket, modified);
        CREATE TABLE IF NOT EXISTS revision_meta(
            id INTEGER PRIMARY KEY, revision_id INTEGER NOT NULL, path TEXT NOT NULL, type INTEGER NOT NULL, num REAL, text TEXT);
        -- A metadata predicate on one hit is one probe of this index (it covers path, type and number).
        CREATE INDEX IF NOT EXISTS revision_meta_by_revision ON revision_meta(revision_id, path, type, num);
        CREATE INDEX IF NOT EXISTS revision_meta_by_path ON revision_meta(path, type, num);
        CREATE TABLE IF NOT EXISTS entries(
            id INTEGER PRIMARY KEY, revision_id INTEGER NOT NULL, logical_key TEXT NOT NULL, physical_key TEXT NOT NULL,
            size INTEGER NOT NULL, meta TEXT);
        CREATE INDEX IF NOT EXISTS entries_by_revision ON entries(revision_id);
        CREATE TABLE IF NOT EXISTS objects(
            id INTEGER PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, ext TEXT NOT NULL, size INTEGER NOT NULL,
            modified INTEGER NOT NULL, version TEXT, etag TEXT, deleted INTEGER NOT NULL DEFAULT 0, has_text INTEGER NOT NULL DEFAULT 0,
            UNIQUE(bucket, key));
        CREATE TABLE IF NOT EXISTS pointers(
            bucket TEXT NOT NULL, key TEXT NOT NULL, etag TEXT, size INTEGER NOT NULL, modified INTEGER NOT NULL, hash TEXT NOT NULL,
            PRIMARY KEY(bucket, key)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS bucket_state(
            bucket TEXT PRIMARY KEY, refreshed INTEGER NOT NULL, objects_truncated INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        CREATE VIRTUAL TABLE IF NOT EXISTS revisions_fts USING fts5(
            name, comment, meta, workflow, keys, entry_meta, tokenize = 'unicode61 remove_diacritics 2');
        -- Never ranked by bm25, so no per-row column sizes to keep (columnsize=0: one table write less per row).
        CREATE VIRTUAL TABLE IF NOT EXISTS meta_fts USING fts5(value, tokenize = 'unicode61 remove_diacritics 2', columnsize = 0);
        CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
            rev, logical_key, physical_key, meta, tokenize = 'unicode61 remove_diacritics 2', columnsize = 0);
        CREATE VIRTUAL TABLE IF NOT EXISTS objects_fts USING fts5(key, content, tokenize = 'unicode61 remove_diacritics 2');
        """;

    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            // A 16 MB page cache (the default is 2 MB): indexing and broad searches revisit the same FTS pages.
            await ExecuteAsync(connection, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;", cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqlParameters? parameters = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        parameters?.ApplyTo(command);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqlParameters? parameters = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        parameters?.ApplyTo(command);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    private async Task WriteAsync(Func<SqliteConnection, Task> write, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // BEGIN IMMEDIATE: the write lock up front, so two writers queue on the busy timeout instead of deadlocking.
            var transaction = connection.BeginTransaction(deferred: false);
            await using (transaction.ConfigureAwait(false))
            {
                await write(connection).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public Task UpsertPackageRevisionsAsync(IReadOnlyList<PackageRevisionDocument> revisions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revisions);
        if (revisions.Count == 0)
            return Task.CompletedTask;
        return WriteAsync(async connection =>
        {
            // Ids are given here, not read back per row: the write lock (BEGIN IMMEDIATE) is held, so nobody else adds rows meanwhile.
            var nextEntryId = Convert.ToInt64(await ScalarAsync(connection, "SELECT coalesce(max(id), 0) FROM entries;", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            var nextLeafId = Convert.ToInt64(await ScalarAsync(connection, "SELECT coalesce(max(id), 0) FROM revision_meta;", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            using var find = connection.CreateCommand();
            find.CommandText = "SELECT id FROM revisions WHERE bucket = $bucket AND name = $name AND hash = $hash;";
            var fp = Parameters(find, "$bucket", "$name", "$hash");
            using var upsert = connection.CreateCommand();
            upsert.CommandText = """
                INSERT INTO revisions(bucket, name, hash, pointer, modified, is_latest, comment, user_meta, workflow, workflow_id, size, entries)
                VALUES ($bucket, $name, $hash, $pointer, $modified, $latest, $comment, $meta, $workflow, $workflowId, $size, $entries)
                ON CONFLICT(bucket, name, hash) DO UPDATE SET pointer = excluded.pointer, modified = excluded.modified,
                    is_latest = excluded.is_latest, comment = excluded.comment, user_meta = excluded.user_meta,
                    workflow = excluded.workflow, workflow_id = excluded.workflow_id, size = excluded.size, entries = excluded.entries
                RETURNING id;
                """;
            var p = Parameters(upsert, "$bucket", "$name", "$hash", "$pointer", "$modified", "$latest", "$comment", "$meta", "$workflow", "$workflowId", "$size", "$entries");
            using var clear = connection.CreateCommand();
            clear.CommandText = """
                DELETE FROM revisions_fts WHERE rowid = $id;
                DELETE FROM meta_fts WHERE rowid IN (SELECT id FROM revision_meta WHERE revision_id = $id);
                DELETE FROM revision_meta WHERE revision_id = $id;
                DELETE FROM entries_fts WHERE rowid IN (SELECT id FROM entries WHERE revision_id = $id);
                DELETE FROM entries WHERE revision_id = $id;
                """;
            var clearId = clear.Parameters.Add("$id", SqliteType.Integer);
            using var fts = connection.CreateCommand();
            fts.CommandText = "INSERT INTO revisions_fts(rowid, name, comment, meta, workflow, keys, entry_meta) VALUES ($id, $name, $comment, $meta, $workflow, $keys, $entryMeta);";
            var f = Parameters(fts, "$id", "$name", "$comment", "$meta", "$workflow", "$keys", "$entryMeta");
            using var meta = connection.CreateCommand();
            meta.CommandText = "INSERT INTO revision_meta(id, revision_id, path, type, num, text) VALUES ($leaf, $id, $path, $type, $num, $text);";
            var m = Parameters(meta, "$leaf", "$id", "$path", "$type", "$num", "$text");
            using var metaFts = connection.CreateCommand();
            metaFts.CommandText = "INSERT INTO meta_fts(rowid, value) VALUES ($id, $value);";
            var mf = Parameters(metaFts, "$id", "$value");
            using var entry = connection.CreateCommand();
            entry.CommandText = "INSERT INTO entries(id, revision_id, logical_key, physical_key, size, meta) VALUES ($id, $rev, $logical, $physical, $size, $meta);";
            var e = Parameters(entry, "$id", "$rev", "$logical", "$physical", "$size", "$meta");
            using var entryFts = connection.CreateCommand();
            entryFts.CommandText = "INSERT INTO entries_fts(rowid, rev, logical_key, physical_key, meta) VALUES ($id, $rev, $logical, $physical, $meta);";
            var ef = Parameters(entryFts, "$id", "$rev", "$logical", "$physical", "$meta");

            foreach (var revision in revisions)
            {
                var leaves = MetaFlattener.Flatten(revision.UserMeta is { ValueKind: JsonValueKind.Object } ? revision.UserMeta : null);
                var workflowId = revision.Workflow is { ValueKind: JsonValueKind.Object } workflow && workflow.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                    ? id.GetString()
                    : null;
                Set(p, revision.Bucket, revision.Name, revision.Hash, revision.Pointer, revision.Modified.ToUnixTimeMilliseconds(), revision.IsLatest ? 1 : 0,
                    revision.Comment, Json(revision.UserMeta), Json(revision.Workflow), workflowId, revision.Size, revision.Entries.Count);
                Set(fp, revision.Bucket, revision.Name, revision.Hash);
                var existed = await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long;
                var revisionId = (long)(await upsert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (existed)
                {
                    // A revision indexed before: its rows are replaced (a new one has none to clear).
                    clearId.Value = revisionId;
                    await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                var keys = new StringBuilder();
                var entryMeta = new StringBuilder();
                foreach (var item in revision.Entries.Take(MaxIndexedEntries))
                {
                    var itemWords = MetaFlattener.Words(MetaFlattener.Flatten(item.Meta), 4096);
                    if (keys.Length < MaxRevisionTextChars)
                        keys.Append(item.LogicalKey).Append('\n').Append(item.PhysicalKey).Append('\n');
                    if (entryMeta.Length < MaxRevisionTextChars && itemWords.Length > 0)
                        entryMeta.Append(itemWords);
                    var entryId = ++nextEntryId;
                    Set(e, entryId, revisionId, item.LogicalKey, item.PhysicalKey, item.Size, Json(item.Meta));
                    await entry.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    Set(ef, entryId, RevisionToken(revisionId), item.LogicalKey, item.PhysicalKey, itemWords);
                    await entryFts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                Set(f, revisionId, revision.Name, revision.Comment, MetaFlattener.Words(leaves, MaxRevisionTextChars), WorkflowWords(revision.Workflow, workflowId),
                    Cut(keys), Cut(entryMeta));
                await fts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

                foreach (var leaf in leaves)
                {
                    var leafId = ++nextLeafId;
                    Set(m, leafId, revisionId, leaf.Path, (int)leaf.Type, leaf.Number, leaf.Text);
                    await meta.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    if (leaf.Text is { } text)
                    {
                        Set(mf, leafId, text);
                        await metaFts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }, cancellationToken);
    }

    /// <summary>The word an entry's FTS row carries to name its revision, so one revision's entries are found by one MATCH.</summary>
    internal static string RevisionToken(long revisionId) => "r" + revisionId.ToString(CultureInfo.InvariantCulture);

    private static string Cut(StringBuilder text) => text.Length > MaxRevisionTextChars ? text.ToString(0, MaxRevisionTextChars) : text.ToString();

    private static string? WorkflowWords(JsonElement? workflow, string? id) =>
        workflow is { ValueKind: JsonValueKind.Object } record
            ? string.Join(' ', new[] { id, record.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.String ? config.GetString() : null }.Where(s => s is not null))
            : null;

    private static string? Json(JsonElement? element) =>
        element is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } value ? value.GetRawText() : null;

    private static SqliteParameter[] Parameters(SqliteCommand command, params string[] names) =>
        [.. names.Select(name => command.Parameters.Add(new SqliteParameter { ParameterName = name }))];

    private static void Set(SqliteParameter[] parameters, params object?[] values)
    {
        for (var i = 0; i < parameters.Length; i++)
            parameters[i].Value = values[i] ?? DBNull.Value;
    }

    /// <inheritdoc/>
    public Task SetLatestAsync(string bucket, string name, string? hash, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            var parameters = new SqlParameters();
            await ExecuteAsync(connection,
                $"UPDATE revisions SET is_latest = (hash = {parameters.Add(hash ?? "")}) WHERE bucket = {parameters.Add(bucket)} AND name = {parameters.Add(name)};",
                cancellationToken, parameters).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc/>
    public Task RemovePackageRevisionsAsync(string bucket, string name, IReadOnlyList<string> hashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count == 0)
            return Task.CompletedTask;
        return WriteAsync(async connection =>
        {
            using var remove = connection.CreateCommand();
            remove.CommandText = """
                CREATE TEMP TABLE IF NOT EXISTS doomed(id INTEGER PRIMARY KEY);
                DELETE FROM temp.doomed;
                INSERT INTO temp.doomed SELECT id FROM revisions WHERE bucket = $bucket AND name = $name AND hash = $hash;
                DELETE FROM revisions_fts WHERE rowid IN (SELECT id FROM temp.doomed);
                DELETE FROM meta_fts WHERE rowid IN (SELECT m.id FROM revision_meta m WHERE m.revision_id IN (SELECT id FROM temp.doomed));
                DELETE FROM revision_meta WHERE revision_id IN (SELECT id FROM temp.doomed);
                DELETE FROM entries_fts WHERE rowid IN (SELECT e.id FROM entries e WHERE e.revision_id IN (SELECT id FROM temp.doomed));
                DELETE FROM entries WHERE revision_id IN (SELECT id FROM temp.doomed);
                DELETE FROM revisions WHERE id IN (SELECT id FROM temp.doomed);
                """;
            var p = Parameters(remove, "$bucket", "$name", "$hash");
            foreach (var hash in hashes)
            {
                Set(p, bucket, name, hash);
                await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task UpsertObjectsAsync(IReadOnlyList<ObjectDocument> objects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(objects);
        if (objects.Count == 0)
            return Task.CompletedTask;
        return WriteAsync(async connection =>
        {
            using var find = connection.CreateCommand();
            find.CommandText = "SELECT id FROM objects WHERE bucket = $bucket AND key = $key;";
            var fp = Parameters(find, "$bucket", "$key");
            using var upsert = connection.CreateCommand();
            upsert.CommandText = """
                INSERT INTO objects(bucket, key, ext, size, modified, version, etag, deleted, has_text)
                VALUES ($bucket, $key, $ext, $size, $modified, $version, $etag, $deleted, $hasText)
                ON CONFLICT(bucket, key) DO UPDATE SET ext = excluded.ext, size = excluded.size, modified = excluded.modified,
                    version = excluded.version, etag = excluded.etag, deleted = excluded.deleted, has_text = excluded.has_text
                RETURNING id;
                """;
            var p = Parameters(upsert, "$bucket", "$key", "$ext", "$size", "$modified", "$version", "$etag", "$deleted", "$hasText");
            using var clear = connection.CreateCommand();
            clear.CommandText = "DELETE FROM objects_fts WHERE rowid = $id;";
            var clearId = clear.Parameters.Add("$id", SqliteType.Integer);
            using var fts = connection.CreateCommand();
            fts.CommandText = "INSERT INTO objects_fts(rowid, key, content) VALUES ($id, $key, $content);";
            var f = Parameters(fts, "$id", "$key", "$content");
            foreach (var item in objects)
            {
                Set(fp, item.Bucket, item.Key);
                if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long known)
                {
                    clearId.Value = known; // a changed object: its old words go first (a new one has none)
                    await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                Set(p, item.Bucket, item.Key, Extension(item.Key), item.Size, item.Modified.ToUnixTimeMilliseconds(), item.Version, item.ETag,
                    item.Deleted ? 1 : 0, item.Text is null ? 0 : 1);
                var objectId = (long)(await upsert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                Set(f, objectId, item.Key, item.Text);
                await fts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <summary>An object's extension as facets and filters use it: lower case, with the dot (<c>.csv</c>); "" for none.</summary>
    public static string Extension(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var name = key[(key.LastIndexOf('/') + 1)..];
        var dot = name.LastIndexOf('.');
        return dot <= 0 || dot == name.Length - 1 ? "" : name[dot..].ToLowerInvariant();
    }

    /// <inheritdoc/>
    public Task RemoveObjectsAsync(string bucket, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
            return Task.CompletedTask;
        return WriteAsync(async connection =>
        {
            using var remove = connection.CreateCommand();
            remove.CommandText = """
                DELETE FROM objects_fts WHERE rowid = (SELECT id FROM objects WHERE bucket = $bucket AND key = $key);
                DELETE FROM objects WHERE bucket = $bucket AND key = $key;
                """;
            var p = Parameters(remove, "$bucket", "$key");
            foreach (var key in keys)
            {
                Set(p, bucket, key);
                await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask; // connections are per call (pooled); nothing is held open
}
