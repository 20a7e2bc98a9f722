using System.Data;
using System.Data.Common;
using System.Text.Json.Nodes;

namespace Quilt.Gateway.Data;

/// <summary>
/// The audit trail and shared state in a SQL database, with the same tables and statements for SQLite and PostgreSQL
/// (times are Unix milliseconds, details are JSON text). The audit table is append-only: triggers refuse UPDATE and
/// DELETE, so not even a bug in this service can rewrite history.
/// </summary>
public abstract partial class SqlGatewayStore : IAuditStore, IStateStore, IAsyncDisposable
{
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A connection for the tables other parts of the gateway keep in the same database (such as OAuth's).</summary>
    internal Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    /// <summary>Statements that create the tables and the append-only triggers; each runs once, idempotently.</summary>
    protected abstract IEnumerable<string> SchemaStatements { get; }

    public abstract ValueTask DisposeAsync();

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            foreach (var sql in SchemaStatements)
                await ExecuteAsync(connection, sql, [], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, ApiKeyTables, [], cancellationToken).ConfigureAwait(false);
            await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Opens a connection and queries the audit table (no rows read): whether the database answers and still holds this
    /// gateway's tables (readiness, check --probe).
    /// </summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenForPingAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT 1 FROM audit_events WHERE 1 = 0";
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The connection a ping uses: a pooled one unless the engine needs a fresh one to see a failure.</summary>
    protected virtual Task<DbConnection> OpenForPingAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    /// <summary>Brings tables made by an older version up to date (columns added since); nothing for a new database.</summary>
    protected virtual Task MigrateAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    protected const string StateTables = """
        CREATE TABLE IF NOT EXISTS active_roles (
          subject TEXT PRIMARY KEY,
          role TEXT NOT NULL,
          updated_ms BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS gateway_secrets (
          name TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          created_ms BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS browsing_sessions (
          id_hash TEXT PRIMARY KEY,
          subject TEXT NOT NULL,
          role TEXT NOT NULL,
          scope TEXT NOT NULL,
          bucket TEXT NOT NULL,
          prefix TEXT NULL,
          object_key TEXT NULL,
          package TEXT NULL,
          top_hash TEXT NULL,
          created_ms BIGINT NOT NULL,
          expires_ms BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS multipart_uploads (
          id TEXT PRIMARY KEY,
          subject TEXT NOT NULL,
          role TEXT NOT NULL,
          bucket TEXT NOT NULL,
          object_key TEXT NOT NULL,
          s3_upload_id TEXT NOT NULL,
          size BIGINT NOT NULL,
          part_size BIGINT NOT NULL,
          content_type TEXT NULL,
          created_ms BIGINT NOT NULL,
          expires_ms BIGINT NOT NULL,
          part_secret_hash TEXT NULL
        );
        CREATE TABLE IF NOT EXISTS multipart_parts (
          upload_id TEXT NOT NULL,
          part_number INTEGER NOT NULL,
          size BIGINT NOT NULL,
          etag TEXT NOT NULL,
          PRIMARY KEY (upload_id, part_number)
        );
        CREATE INDEX IF NOT EXISTS multipart_uploads_expires ON multipart_uploads (expires_ms);
        CREATE INDEX IF NOT EXISTS browsing_sessions_expires ON browsing_sessions (expires_ms);
        """;

    public async Task<long> AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var id = await ScalarAsync(connection, """
                INSERT INTO audit_events (time_ms, subject, role, action, target, outcome, details)
                VALUES (@time, @subject, @role, @action, @target, @outcome, @details)
                RETURNING id
                """,
                [("time", record.Time.ToUnixTimeMilliseconds()), ("subject", record.Subject), ("role", record.Role), ("action", record.Action),
                 ("target", record.Target), ("outcome", record.Outcome), ("details", record.Details?.ToJsonString())],
                cancellationToken).ConfigureAwait(false);
            return Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public async Task<IReadOnlyList<AuditEvent>> ReadAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var where = new List<string>();
        var args = new List<(string, object?)>();
        if (query.Since is { } since)
        {
            where.Add("time_ms >= @since");
            args.Add(("since", since.ToUnixTimeMilliseconds()));
        }
        if (query.Until is { } until)
        {
            where.Add("time_ms < @until");
            args.Add(("until", until.ToUnixTimeMilliseconds()));
        }
        if (query.Subject is not null)
        {
            where.Add("subject = @subject");
            args.Add(("subject", query.Subject));
        }
        if (query.Action is not null)
        {
            where.Add("action = @action");
            args.Add(("action", query.Action));
        }
        if (query.AfterId is { } after)
        {
            where.Add("id > @after");
            args.Add(("after", after));
        }
        args.Add(("limit", (long)Math.Clamp(query.Limit, 1, 10_000)));
        var sql = "SELECT id, time_ms, subject, role, action, target, outcome, details FROM audit_events"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY id LIMIT @limit";

        var results = new List<AuditEvent>();
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = Command(connection, sql, args);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var details = reader.IsDBNull(7) ? null : JsonNode.Parse(reader.GetString(7)) as JsonObject;
                        results.Add(new AuditEvent(
                            reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetString(2),
                            NullableString(reader, 3), reader.GetString(4), NullableString(reader, 5), reader.GetString(6), details));
                    }
                }
            }
        }
        return results;
    }

    public async Task<string?> GetActiveRoleAsync(string subject, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
            return await ScalarAsync(connection, "SELECT role FROM active_roles WHERE subject = @subject", [("subject", subject)], cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task SetActiveRoleAsync(string subject, string role, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, """
                INSERT INTO active_roles (subject, role, updated_ms) VALUES (@subject, @role, @time)
                ON CONFLICT (subject) DO UPDATE SET role = excluded.role, updated_ms = excluded.updated_ms
                """, [("subject", subject), ("role", role), ("time", time.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<string> GetOrAddSecretAsync(string name, string candidate, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Whichever instance inserts first wins; every other one reads what it wrote.
            await ExecuteAsync(connection, """
                INSERT INTO gateway_secrets (name, value, created_ms) VALUES (@name, @value, @time)
                ON CONFLICT (name) DO NOTHING
                """, [("name", name), ("value", candidate), ("time", time.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
            return (string)(await ScalarAsync(connection, "SELECT value FROM gateway_secrets WHERE name = @name", [("name", name)], cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task CreateSessionAsync(BrowsingSessionRecord session, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, """
                INSERT INTO browsing_sessions (id_hash, subject, role, scope, bucket, prefix, object_key, package, top_hash, created_ms, expires_ms)
                VALUES (@id, @subject, @role, @scope, @bucket, @prefix, @key, @package, @hash, @created, @expires)
                """,
                [("id", session.IdHash), ("subject", session.Subject), ("role", session.Role), ("scope", session.Scope), ("bucket", session.Bucket),
                 ("prefix", session.Prefix), ("key", session.Key), ("package", session.PackageName), ("hash", session.TopHash),
                 ("created", session.Created.ToUnixTimeMilliseconds()), ("expires", session.Expires.ToUnixTimeMilliseconds())],
                cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<BrowsingSessionRecord?> GetSessionAsync(string idHash, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = Command(connection,
                "SELECT id_hash, subject, role, scope, bucket, prefix, object_key, package, top_hash, created_ms, expires_ms FROM browsing_sessions WHERE id_hash = @id",
                [("id", idHash)]);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        return null;
                    return new BrowsingSessionRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        NullableString(reader, 5), NullableString(reader, 6), NullableString(reader, 7), NullableString(reader, 8),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)));
                }
            }
        }
    }

    public async Task<bool> SetSessionExpiryAsync(string idHash, DateTimeOffset expires, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await ExecuteAsync(connection, "UPDATE browsing_sessions SET expires_ms = @expires WHERE id_hash = @id",
                [("expires", expires.ToUnixTimeMilliseconds()), ("id", idHash)], cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    public async Task<bool> DeleteSessionAsync(string idHash, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
            return await ExecuteAsync(connection, "DELETE FROM browsing_sessions WHERE id_hash = @id", [("id", idHash)], cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<int> DeleteExpiredSessionsAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
            return await ExecuteAsync(connection, "DELETE FROM browsing_sessions WHERE expires_ms < @before", [("before", before.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
    }

    public async Task CreateUploadAsync(MultipartUploadRecord upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, """
                INSERT INTO multipart_uploads (id, subject, role, bucket, object_key, s3_upload_id, size, part_size, content_type, created_ms, expires_ms, part_secret_hash)
                VALUES (@id, @subject, @role, @bucket, @key, @upload, @size, @part, @type, @created, @expires, @secret)
                """,
                [("id", upload.Id), ("subject", upload.Subject), ("role", upload.Role), ("bucket", upload.Bucket), ("key", upload.Key),
                 ("upload", upload.S3UploadId), ("size", upload.Size), ("part", upload.PartSize), ("type", upload.ContentType),
                 ("created", upload.Created.ToUnixTimeMilliseconds()), ("expires", upload.Expires.ToUnixTimeMilliseconds()), ("secret", upload.PartSecretHash)],
                cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<MultipartUploadRecord?> GetUploadAsync(string id, CancellationToken cancellationToken = default)
    {
        var list = await QueryUploadsAsync("WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
        return list.Count == 0 ? null : list[0];
    }

    public async Task<bool> DeleteUploadAsync(string id, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var deleted = await ExecuteAsync(connection, "DELETE FROM multipart_uploads WHERE id = @id", [("id", id)], cancellationToken).ConfigureAwait(false) > 0;
            // After the upload: a part recorded meanwhile finds no upload (RecordPartAsync) and is not left behind.
            await ExecuteAsync(connection, "DELETE FROM multipart_parts WHERE upload_id = @id", [("id", id)], cancellationToken).ConfigureAwait(false);
            return deleted;
        }
    }

    public async Task<bool> RecordPartAsync(string uploadId, UploadedPartRecord part, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(part);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Only while the upload exists, so a part that lands after completion or abort records nothing.
            return await ExecuteAsync(connection, """
                INSERT INTO multipart_parts (upload_id, part_number, size, etag)
                SELECT @id, @number, @size, @etag WHERE EXISTS (SELECT 1 FROM multipart_uploads WHERE id = @id)
                ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag
                """,
                [("id", uploadId), ("number", (long)part.PartNumber), ("size", part.Size), ("etag", part.ETag)], cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    public async Task<IReadOnlyList<UploadedPartRecord>> GetPartsAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var results = new List<UploadedPartRecord>();
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = Command(connection, "SELECT part_number, size, etag FROM multipart_parts WHERE upload_id = @id ORDER BY part_number", [("id", uploadId)]);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        results.Add(new UploadedPartRecord(Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), reader.GetInt64(1), reader.GetString(2)));
                }
            }
        }
        return results;
    }

    public Task<IReadOnlyList<MultipartUploadRecord>> ExpiredUploadsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default) =>
        QueryUploadsAsync("WHERE expires_ms < @now ORDER BY expires_ms LIMIT @limit", [("now", now.ToUnixTimeMilliseconds()), ("limit", (long)limit)], cancellationToken);

    private async Task<IReadOnlyList<MultipartUploadRecord>> QueryUploadsAsync(string where, (string, object?)[] args, CancellationToken cancellationToken)
    {
        var results = new List<MultipartUploadRecord>();
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = Command(connection,
                "SELECT id, subject, role, bucket, object_key, s3_upload_id, size, part_size, content_type, created_ms, expires_ms, part_secret_hash FROM multipart_uploads " + where, args);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        results.Add(new MultipartUploadRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                            reader.GetString(4), reader.GetString(5), reader.GetInt64(6), reader.GetInt64(7), NullableString(reader, 8),
                            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                            NullableString(reader, 11)));
                    }
                }
            }
        }
        return results;
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    internal static DbCommand Command(DbConnection connection, string sql, IEnumerable<(string Name, object? Value)> args)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // Statements are constants of this class; values always go in as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in args)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            if (value is null)
                p.DbType = DbType.String;
            command.Parameters.Add(p);
        }
        return command;
    }

    protected internal static async Task<int> ExecuteAsync(DbConnection connection, string sql, IEnumerable<(string, object?)> args, CancellationToken cancellationToken)
    {
        var command = Command(connection, sql, args);
        await using (command.ConfigureAwait(false))
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, IEnumerable<(string, object?)> args, CancellationToken cancellationToken)
    {
        var command = Command(connection, sql, args);
        await using (command.ConfigureAwait(false))
        {
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is DBNull ? null : value;
        }
    }

    /// <summary>Details as JSON for the audit trail; null values are left out.</summary>
    public static JsonObject Details(params (string Key, object? Value)[] pairs)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in pairs)
        {
            JsonNode? node = value switch
            {
                null => null,
                string s => JsonValue.Create(s),
                long l => JsonValue.Create(l),
                int i => JsonValue.Create(i),
                bool b => JsonValue.Create(b),
                DateTimeOffset t => JsonValue.Create(t.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
                JsonNode n => n.DeepClone(),
                _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
            };
            if (node is not null)
                obj[key] = node;
        }
        return obj;
    }
}
