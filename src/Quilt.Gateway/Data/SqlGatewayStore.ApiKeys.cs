namespace Quilt.Gateway.Data;

/// <summary>
/// A Quilt API key as stored: the secret only as its SHA-256 (<see cref="SecretHash"/>), so a copy of the database
/// lets no one in. The user (subject, name, e-mail, admin, roles) is the one whose token created it.
/// </summary>
public sealed record ApiKeyRecord(
    string Id, string SecretHash, string Fingerprint, string Name, string Subject, string UserName, string Email, bool IsAdmin,
    IReadOnlyList<string> Roles, DateTimeOffset Created, DateTimeOffset Expires, DateTimeOffset? LastUsed);

/// <summary>The API keys the gateway issued and has not revoked.</summary>
public interface IApiKeyStore
{
    Task CreateApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    Task<ApiKeyRecord?> FindApiKeyBySecretHashAsync(string secretHash, CancellationToken cancellationToken = default);

    /// <summary>The keys of <paramref name="subject"/>, oldest first.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string subject, CancellationToken cancellationToken = default);

    Task SetApiKeyUsedAsync(string id, DateTimeOffset time, CancellationToken cancellationToken = default);

    /// <summary>Removes the key; false when <paramref name="subject"/> has no key with that id.</summary>
    Task<bool> DeleteApiKeyAsync(string id, string subject, CancellationToken cancellationToken = default);
}

public abstract partial class SqlGatewayStore : IApiKeyStore
{
    // Roles as a space-separated list (role names hold no spaces); is_admin as 0/1, the same in SQLite and PostgreSQL.
    private const string ApiKeyTables = """
        CREATE TABLE IF NOT EXISTS api_keys (
          id TEXT PRIMARY KEY,
          secret_hash TEXT NOT NULL UNIQUE,
          fingerprint TEXT NOT NULL,
          name TEXT NOT NULL,
          subject TEXT NOT NULL,
          user_name TEXT NOT NULL,
          email TEXT NOT NULL,
          is_admin BIGINT NOT NULL,
          roles TEXT NOT NULL,
          created_ms BIGINT NOT NULL,
          expires_ms BIGINT NOT NULL,
          last_used_ms BIGINT NULL
        );
        CREATE INDEX IF NOT EXISTS api_keys_subject ON api_keys (subject);
        """;

    private const string ApiKeyColumns =
        "id, secret_hash, fingerprint, name, subject, user_name, email, is_admin, roles, created_ms, expires_ms, last_used_ms";

    public async Task CreateApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, $"""
                INSERT INTO api_keys ({ApiKeyColumns})
                VALUES (@id, @hash, @fingerprint, @name, @subject, @user, @email, @admin, @roles, @created, @expires, NULL)
                """,
                [("id", key.Id), ("hash", key.SecretHash), ("fingerprint", key.Fingerprint), ("name", key.Name), ("subject", key.Subject),
                 ("user", key.UserName), ("email", key.Email), ("admin", key.IsAdmin ? 1L : 0L), ("roles", string.Join(' ', key.Roles)),
                 ("created", key.Created.ToUnixTimeMilliseconds()), ("expires", key.Expires.ToUnixTimeMilliseconds())],
                cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<ApiKeyRecord?> FindApiKeyBySecretHashAsync(string secretHash, CancellationToken cancellationToken = default)
    {
        var keys = await ReadApiKeysAsync($"SELECT {ApiKeyColumns} FROM api_keys WHERE secret_hash = @hash", [("hash", secretHash)], cancellationToken)
            .ConfigureAwait(false);
        return keys.Count > 0 ? keys[0] : null;
    }

    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string subject, CancellationToken cancellationToken = default) =>
        ReadApiKeysAsync($"SELECT {ApiKeyColumns} FROM api_keys WHERE subject = @subject ORDER BY created_ms, id", [("subject", subject)], cancellationToken);

    public async Task SetApiKeyUsedAsync(string id, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, "UPDATE api_keys SET last_used_ms = @time WHERE id = @id",
                [("time", time.ToUnixTimeMilliseconds()), ("id", id)], cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> DeleteApiKeyAsync(string id, string subject, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await ExecuteAsync(connection, "DELETE FROM api_keys WHERE id = @id AND subject = @subject",
                [("id", id), ("subject", subject)], cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    private async Task<IReadOnlyList<ApiKeyRecord>> ReadApiKeysAsync(string sql, IEnumerable<(string, object?)> args, CancellationToken cancellationToken)
    {
        var keys = new List<ApiKeyRecord>();
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
                        keys.Add(new ApiKeyRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                            reader.GetString(5), reader.GetString(6), reader.GetInt64(7) != 0,
                            reader.GetString(8).Split(' ', StringSplitOptions.RemoveEmptyEntries),
                            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                            reader.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11))));
                    }
                }
            }
        }
        return keys;
    }
}
