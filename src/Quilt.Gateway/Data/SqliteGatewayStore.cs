using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Quilt.Gateway.Data;

/// <summary>The embedded default: one SQLite file (WAL mode) for one gateway instance.</summary>
public sealed class SqliteGatewayStore : SqlGatewayStore
{
    private readonly string _connectionString;
    private readonly bool _durable;

    /// <summary>
    /// With <paramref name="durable"/> every line is on disk before it is acknowledged (synchronous=FULL); without, a
    /// power loss may drop the last lines (synchronous=NORMAL in WAL mode; an application crash still loses none).
    /// </summary>
    public SqliteGatewayStore(string path, bool durable = true)
    {
        _durable = durable;
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        Path = full;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    protected override IEnumerable<string> SchemaStatements =>
    [
        "PRAGMA journal_mode = WAL",
        """
        CREATE TABLE IF NOT EXISTS audit_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          time_ms BIGINT NOT NULL,
          subject TEXT NOT NULL,
          role TEXT NULL,
          action TEXT NOT NULL,
          target TEXT NULL,
          outcome TEXT NOT NULL,
          details TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time_ms);
        CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """,
        StateTables,
    ];

    protected override async Task MigrateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // SQLite has no ADD COLUMN IF NOT EXISTS: databases made before parts went through the gateway lack this column.
        using var check = connection.CreateCommand();
        check.CommandText = "SELECT COUNT(*) FROM pragma_table_info('multipart_uploads') WHERE name = 'part_secret_hash'";
        if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
            await ExecuteAsync(connection, "ALTER TABLE multipart_uploads ADD COLUMN part_secret_hash TEXT NULL", [], cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = _durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
                await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A fresh connection (unpooled, never creating the file): a pooled one keeps a file that was deleted, moved or
    /// replaced open, and would answer while the configured path no longer holds the gateway's database.
    /// </summary>
    protected override async Task<DbConnection> OpenForPingAsync(CancellationToken cancellationToken)
    {
        var fresh = new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false };
        var connection = new SqliteConnection(fresh.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; let it go so the file can be moved or deleted.
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
