using System.Globalization;
using System.Text.Json;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.OAuth;

/// <summary>A client registered dynamically (RFC 7591): public (no secret), with the redirect URIs it may use.</summary>
public sealed record OAuthClient(string ClientId, string? ClientName, IReadOnlyList<string> RedirectUris, DateTimeOffset Created);

/// <summary>
/// An authorization code as stored: only its SHA-256 is kept, so a copy of the database redeems nothing. It carries
/// what the user approved and who they are (the claims the tokens will carry).
/// </summary>
public sealed record AuthorizationCode(
    string CodeHash, string ClientId, string RedirectUri, string CodeChallenge, string Resource, string Scope, string Subject,
    string ClaimsJson, DateTimeOffset Expires);

/// <summary>
/// The authorization server's state in the gateway's database (SQLite or PostgreSQL, the same tables), so that several
/// instances on one database share registered clients and codes.
/// </summary>
public sealed class OAuthStore(SqlGatewayStore store)
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS oauth_clients (
          client_id TEXT PRIMARY KEY,
          client_name TEXT NULL,
          redirect_uris TEXT NOT NULL,
          created_ms BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS oauth_codes (
          code_hash TEXT PRIMARY KEY,
          client_id TEXT NOT NULL,
          redirect_uri TEXT NOT NULL,
          code_challenge TEXT NOT NULL,
          resource TEXT NOT NULL,
          scope TEXT NOT NULL,
          subject TEXT NOT NULL,
          claims TEXT NOT NULL,
          expires_ms BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS oauth_codes_expires ON oauth_codes (expires_ms);
        """;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
            await SqlGatewayStore.ExecuteAsync(connection, Schema, [], cancellationToken).ConfigureAwait(false);
    }

    public async Task AddClientAsync(OAuthClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await SqlGatewayStore.ExecuteAsync(connection,
                "INSERT INTO oauth_clients (client_id, client_name, redirect_uris, created_ms) VALUES (@id, @name, @uris, @created)",
                [("id", client.ClientId), ("name", client.ClientName), ("uris", JsonSerializer.Serialize(client.RedirectUris)),
                 ("created", client.Created.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<OAuthClient?> GetClientAsync(string clientId, CancellationToken cancellationToken)
    {
        var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = SqlGatewayStore.Command(connection, "SELECT client_id, client_name, redirect_uris, created_ms FROM oauth_clients WHERE client_id = @id", [("id", clientId)]);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        return null;
                    return new OAuthClient(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                        JsonSerializer.Deserialize<List<string>>(reader.GetString(2)) ?? [], DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
                }
            }
        }
    }

    public async Task AddCodeAsync(AuthorizationCode code, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Codes live a minute: the expired ones go as new ones come.
            await SqlGatewayStore.ExecuteAsync(connection, "DELETE FROM oauth_codes WHERE expires_ms < @now", [("now", now.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
            await SqlGatewayStore.ExecuteAsync(connection, """
                INSERT INTO oauth_codes (code_hash, client_id, redirect_uri, code_challenge, resource, scope, subject, claims, expires_ms)
                VALUES (@hash, @client, @redirect, @challenge, @resource, @scope, @subject, @claims, @expires)
                """,
                [("hash", code.CodeHash), ("client", code.ClientId), ("redirect", code.RedirectUri), ("challenge", code.CodeChallenge),
                 ("resource", code.Resource), ("scope", code.Scope), ("subject", code.Subject), ("claims", code.ClaimsJson),
                 ("expires", code.Expires.ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the code out of the store and returns it: at most one request ever gets it (the delete is the redemption),
    /// whatever happens next, so a code is single-use even across instances.
    /// </summary>
    public async Task<AuthorizationCode?> RedeemCodeAsync(string codeHash, CancellationToken cancellationToken)
    {
        var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = SqlGatewayStore.Command(connection, """
                DELETE FROM oauth_codes WHERE code_hash = @hash
                RETURNING code_hash, client_id, redirect_uri, code_challenge, resource, scope, subject, claims, expires_ms
                """, [("hash", codeHash)]);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        return null;
                    return new AuthorizationCode(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                        reader.GetString(5), reader.GetString(6), reader.GetString(7),
                        DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(8), CultureInfo.InvariantCulture)));
                }
            }
        }
    }
}
