using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Quilt.Gateway.Data;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>The same contract for both databases: an append-only audit trail, and the shared state of several instances.</summary>
public sealed class StoreTests : IDisposable
{
    private readonly TempDirectory _dir = new("quilt-gateway-store");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Kinds => ["sqlite", "postgres"];

    private async Task<(SqlGatewayStore Store, Func<DbConnection> Raw)> OpenAsync(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        SqlGatewayStore store;
        Func<DbConnection> raw;
        if (kind == "sqlite")
        {
            var path = _dir.Combine($"{Guid.NewGuid():N}.db");
            store = new SqliteGatewayStore(path);
            raw = () => new SqliteConnection($"Data Source={path}");
        }
        else
        {
            var connection = await PostgresServer.CreateDatabaseAsync(ct);
            store = new PostgresGatewayStore(connection);
            raw = () => new NpgsqlConnection(connection);
        }
        await store.InitializeAsync(ct);
        // A second start on the same database changes nothing.
        await store.InitializeAsync(ct);
        return (store, raw);
    }

    private static AuditRecord Line(DateTimeOffset time, string subject, string action) =>
        new(time, subject, "reader", action, $"s3://b/{subject}", AuditOutcome.Allowed, SqlGatewayStore.Details(("maxBytes", 5L), ("contentType", "text/plain")));

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Audit_lines_are_appended_and_read_back_in_order_with_filters(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await OpenAsync(kind);
        await using var _store = store;
        var t0 = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ids = new List<long>();
        for (var i = 0; i < 10; i++)
            ids.Add(await store.AppendAsync(Line(t0.AddMinutes(i), i % 2 == 0 ? "alice" : "bob", i < 5 ? "generateUploadUrl" : "download"), ct));
        Assert.Equal(ids.Order(), ids);

        var all = await store.ReadAsync(new AuditQuery { Limit = 100 }, ct);
        Assert.Equal(ids, all.Select(e => e.Id));
        Assert.Equal(t0.AddMinutes(3), all[3].Time);
        Assert.Equal(5, all[0].Details!["maxBytes"]!.GetValue<long>());

        Assert.Equal(5, (await store.ReadAsync(new AuditQuery { Subject = "alice" }, ct)).Count);
        Assert.Equal(5, (await store.ReadAsync(new AuditQuery { Action = "download" }, ct)).Count);
        Assert.Equal([ids[2], ids[3]], (await store.ReadAsync(new AuditQuery { Since = t0.AddMinutes(2), Until = t0.AddMinutes(4) }, ct)).Select(e => e.Id));
        Assert.Equal([ids[8], ids[9]], (await store.ReadAsync(new AuditQuery { AfterId = ids[7] }, ct)).Select(e => e.Id));
        Assert.Equal(3, (await store.ReadAsync(new AuditQuery { Limit = 3 }, ct)).Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_audit_trail_cannot_be_changed_or_deleted(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, raw) = await OpenAsync(kind);
        await using var _store = store;
        var id = await store.AppendAsync(Line(DateTimeOffset.UtcNow, "mallory", "generateUploadUrl"), ct);

        foreach (var sql in new[] { "UPDATE audit_events SET outcome = 'denied'", "DELETE FROM audit_events", kind == "postgres" ? "TRUNCATE audit_events" : "DELETE FROM audit_events WHERE id > 0" })
        {
            await using var connection = raw();
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            var ex = await Assert.ThrowsAnyAsync<DbException>(() => command.ExecuteNonQueryAsync(ct));
            Assert.Contains("append-only", ex.Message, StringComparison.Ordinal);
        }
        var line = Assert.Single(await store.ReadAsync(new AuditQuery(), ct));
        Assert.Equal(id, line.Id);
        Assert.Equal(AuditOutcome.Allowed, line.Outcome);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Concurrent_appends_all_land_with_distinct_ids(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await OpenAsync(kind);
        await using var _store = store;
        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => store.AppendAsync(Line(DateTimeOffset.UtcNow, $"user{i}", "generateUploadUrl"), ct), ct)));
        Assert.Equal(200, ids.Distinct().Count());
        Assert.Equal(200, (await store.ReadAsync(new AuditQuery { Limit = 1000 }, ct)).Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Role_choices_sessions_and_uploads_are_kept(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await OpenAsync(kind);
        await using var _store = store;
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        Assert.Null(await store.GetActiveRoleAsync("alice", ct));
        await store.SetActiveRoleAsync("alice", "reader", now, ct);
        await store.SetActiveRoleAsync("alice", "uploader", now, ct);
        Assert.Equal("uploader", await store.GetActiveRoleAsync("alice", ct));

        var session = new BrowsingSessionRecord("hash1", "alice", "reader", "s3://b/p/", "b", "p/", null, null, null, now, now.AddMinutes(3));
        await store.CreateSessionAsync(session, ct);
        Assert.Equal(session, await store.GetSessionAsync("hash1", ct));
        Assert.True(await store.SetSessionExpiryAsync("hash1", now.AddHours(1), ct));
        Assert.Equal(now.AddHours(1), (await store.GetSessionAsync("hash1", ct))!.Expires);
        Assert.Equal(0, await store.DeleteExpiredSessionsAsync(now, ct));
        Assert.True(await store.DeleteSessionAsync("hash1", ct));
        Assert.False(await store.DeleteSessionAsync("hash1", ct));
        Assert.Null(await store.GetSessionAsync("hash1", ct));

        var upload = new MultipartUploadRecord("u1", "alice", "bulk", "b", "big/x", "s3-id", 100, 50, "text/plain", now, now.AddMinutes(-1));
        await store.CreateUploadAsync(upload, ct);
        Assert.Equal(upload, await store.GetUploadAsync("u1", ct));
        Assert.Equal([upload], await store.ExpiredUploadsAsync(now, 10, ct));
        Assert.True(await store.DeleteUploadAsync("u1", ct));
        Assert.False(await store.DeleteUploadAsync("u1", ct));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Parts_are_recorded_only_while_their_upload_exists(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _) = await OpenAsync(kind);
        await using var _store = store;
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var upload = new MultipartUploadRecord("u2", "alice", "bulk", "b", "big/y", "s3-id", 100, 50, null, now, now.AddMinutes(5), "secret-hash");
        await store.CreateUploadAsync(upload, ct);
        Assert.Equal(upload, await store.GetUploadAsync("u2", ct));

        Assert.True(await store.RecordPartAsync("u2", new UploadedPartRecord(2, 50, "etag-2"), ct));
        Assert.True(await store.RecordPartAsync("u2", new UploadedPartRecord(1, 50, "etag-1a"), ct));
        // Sent again: the later one counts.
        Assert.True(await store.RecordPartAsync("u2", new UploadedPartRecord(1, 50, "etag-1b"), ct));
        Assert.Equal([new UploadedPartRecord(1, 50, "etag-1b"), new UploadedPartRecord(2, 50, "etag-2")], await store.GetPartsAsync("u2", ct));
        Assert.False(await store.RecordPartAsync("no-such-upload", new UploadedPartRecord(1, 50, "x"), ct));
        Assert.Empty(await store.GetPartsAsync("no-such-upload", ct));

        Assert.True(await store.DeleteUploadAsync("u2", ct));
        Assert.Empty(await store.GetPartsAsync("u2", ct));
        Assert.False(await store.RecordPartAsync("u2", new UploadedPartRecord(1, 50, "late"), ct));
        Assert.Empty(await store.GetPartsAsync("u2", ct));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_database_from_before_part_urls_gains_the_secret_column(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        SqlGatewayStore store;
        Func<DbConnection> raw;
        if (kind == "sqlite")
        {
            var path = _dir.Combine($"{Guid.NewGuid():N}.db");
            raw = () => new SqliteConnection($"Data Source={path}");
            store = new SqliteGatewayStore(path);
        }
        else
        {
            var connection = await PostgresServer.CreateDatabaseAsync(ct);
            raw = () => new NpgsqlConnection(connection);
            store = new PostgresGatewayStore(connection);
        }
        await using var _store = store;
        await using (var old = raw())
        {
            await old.OpenAsync(ct);
            await using var create = old.CreateCommand();
            // The table as the previous version made it.
            create.CommandText = """
                CREATE TABLE multipart_uploads (
                  id TEXT PRIMARY KEY, subject TEXT NOT NULL, role TEXT NOT NULL, bucket TEXT NOT NULL, object_key TEXT NOT NULL,
                  s3_upload_id TEXT NOT NULL, size BIGINT NOT NULL, part_size BIGINT NOT NULL, content_type TEXT NULL,
                  created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL);
                INSERT INTO multipart_uploads VALUES ('old', 'alice', 'bulk', 'b', 'k', 's3', 10, 10, NULL, 0, 1);
                """;
            await create.ExecuteNonQueryAsync(ct);
        }
        await store.InitializeAsync(ct);
        await store.InitializeAsync(ct);
        Assert.Null((await store.GetUploadAsync("old", ct))!.PartSecretHash);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var upload = new MultipartUploadRecord("new", "alice", "bulk", "b", "k", "s3", 10, 10, null, now, now, "hash");
        await store.CreateUploadAsync(upload, ct);
        Assert.Equal(upload, await store.GetUploadAsync("new", ct));
    }
}
