using System.Data.Common;
using Npgsql;

namespace Quilt.Gateway.Data;

/// <summary>PostgreSQL (14 or later), shared by several gateway instances.</summary>
public sealed class PostgresGatewayStore : SqlGatewayStore
{
    // Several instances may start at once: the schema is created under one advisory lock.
    private const long SchemaLock = 0x5155494c54_4757;

    private const int DefaultMaxPoolSize = 20;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresGatewayStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Several instances share one server: each takes a modest pool unless told otherwise.
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
            builder.MaxPoolSize = DefaultMaxPoolSize;
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    protected override IEnumerable<string> SchemaStatements =>
    [
        $"SELECT pg_advisory_lock({SchemaLock})",
        """
        CREATE TABLE IF NOT EXISTS audit_events (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          time_ms BIGINT NOT NULL,
          subject TEXT NOT NULL,
          role TEXT NULL,
          action TEXT NOT NULL,
          target TEXT NULL,
          outcome TEXT NOT NULL,
          details TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time_ms);
        CREATE OR REPLACE FUNCTION quilt_gateway_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
        CREATE OR REPLACE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
          FOR EACH ROW EXECUTE FUNCTION quilt_gateway_audit_append_only();
        CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
          FOR EACH STATEMENT EXECUTE FUNCTION quilt_gateway_audit_append_only();
        """,
        StateTables,
        // Databases made before parts went through the gateway.
        "ALTER TABLE multipart_uploads ADD COLUMN IF NOT EXISTS part_secret_hash TEXT NULL",
        $"SELECT pg_advisory_unlock({SchemaLock})",
    ];

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
