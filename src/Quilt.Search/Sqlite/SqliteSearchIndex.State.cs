using Microsoft.Data.Sqlite;

namespace Quilt.Search.Sqlite;

/// <summary>What the index last saw of a listed object or pointer file, to tell what changed since.</summary>
internal readonly record struct ListedState(string? ETag, long Size, long Modified)
{
    public static ListedState Of(Storage.ObjectSummary summary) => new(summary.ETag, summary.Size, summary.LastModified.ToUnixTimeMilliseconds());
}

/// <summary>A pointer file as last indexed: what it was and the top hash it held.</summary>
internal readonly record struct PointerState(ListedState Listed, string Hash);

// The indexer's bookkeeping, kept in the same file as the index so that a rebuilt index starts its bookkeeping afresh too.
public sealed partial class SqliteSearchIndex
{
    internal async Task<Dictionary<string, PointerState>> PointersAsync(string bucket, CancellationToken cancellationToken)
    {
        var pointers = new Dictionary<string, PointerState>(StringComparer.Ordinal);
        await ReadAsync("SELECT key, etag, size, modified, hash FROM pointers WHERE bucket = $bucket;", bucket, reader =>
            pointers[reader.GetString(0)] = new PointerState(new ListedState(reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)), reader.GetString(4)),
            cancellationToken).ConfigureAwait(false);
        return pointers;
    }

    internal Task UpdatePointersAsync(string bucket, IReadOnlyDictionary<string, PointerState> changed, IReadOnlyCollection<string> removed, CancellationToken cancellationToken)
    {
        if (changed.Count == 0 && removed.Count == 0)
            return Task.CompletedTask;
        return WriteAsync(async connection =>
        {
            using var upsert = connection.CreateCommand();
            upsert.CommandText = "INSERT OR REPLACE INTO pointers(bucket, key, etag, size, modified, hash) VALUES ($bucket, $key, $etag, $size, $modified, $hash);";
            var p = Parameters(upsert, "$bucket", "$key", "$etag", "$size", "$modified", "$hash");
            foreach (var (key, state) in changed)
            {
                Set(p, bucket, key, state.Listed.ETag, state.Listed.Size, state.Listed.Modified, state.Hash);
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM pointers WHERE bucket = $bucket AND key = $key;";
            var d = Parameters(delete, "$bucket", "$key");
            foreach (var key in removed)
            {
                Set(d, bucket, key);
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    internal async Task<Dictionary<string, ListedState>> ObjectStatesAsync(string bucket, CancellationToken cancellationToken)
    {
        var objects = new Dictionary<string, ListedState>(StringComparer.Ordinal);
        await ReadAsync("SELECT key, etag, size, modified FROM objects WHERE bucket = $bucket;", bucket, reader =>
            objects[reader.GetString(0)] = new ListedState(reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)),
            cancellationToken).ConfigureAwait(false);
        return objects;
    }

    /// <summary>The revisions indexed in a bucket: package name, top hash, and whether it is marked latest.</summary>
    internal async Task<List<(string Name, string Hash, bool Latest)>> RevisionsAsync(string bucket, CancellationToken cancellationToken)
    {
        var revisions = new List<(string, string, bool)>();
        await ReadAsync("SELECT name, hash, is_latest FROM revisions WHERE bucket = $bucket;", bucket, reader =>
            revisions.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2) == 1)), cancellationToken).ConfigureAwait(false);
        return revisions;
    }

    /// <summary>When the bucket was last refreshed whole, or null if never.</summary>
    internal async Task<DateTimeOffset?> RefreshedAsync(string bucket, CancellationToken cancellationToken)
    {
        DateTimeOffset? refreshed = null;
        await ReadAsync("SELECT refreshed FROM bucket_state WHERE bucket = $bucket;", bucket, reader =>
            refreshed = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), cancellationToken).ConfigureAwait(false);
        return refreshed;
    }

    internal Task MarkRefreshedAsync(string bucket, DateTimeOffset refreshed, bool objectsTruncated, CancellationToken cancellationToken) =>
        WriteAsync(async connection =>
        {
            var ps = new SqlParameters();
            await ExecuteAsync(connection,
                $"INSERT OR REPLACE INTO bucket_state(bucket, refreshed, objects_truncated) VALUES ({ps.Add(bucket)}, {ps.Add(refreshed.ToUnixTimeMilliseconds())}, {ps.Add(objectsTruncated ? 1 : 0)});",
                cancellationToken, ps).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// Refreshes the query planner's statistics after a large change (a bounded ANALYZE, a few milliseconds), as SQLite
    /// advises; the queries do not depend on them for their join order, but the planner's other choices do.
    /// </summary>
    internal Task AnalyzeAsync(CancellationToken cancellationToken) =>
        WriteAsync(connection => ExecuteAsync(connection, "PRAGMA analysis_limit=1000; ANALYZE;", cancellationToken), cancellationToken);

    private async Task ReadAsync(string sql, string bucket, Action<SqliteDataReader> row, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$bucket", bucket);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    row(reader);
            }
        }
    }
}
