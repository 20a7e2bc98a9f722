using System.Security.Cryptography;
using System.Text;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.ApiKeys;

/// <summary>A key as the caller may see it (never its secret).</summary>
public sealed record ApiKeyView(string Id, string Name, string Fingerprint, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt, string UserEmail, bool Expired);

/// <summary>
/// Quilt API keys (qk_…) for headless use: created by a signed-in user (apiKeyCreate) for themselves, sent as
/// "Authorization: Bearer qk_…", resolved on each request to the user who created it and the roles they had then (as
/// far as this gateway still configures them), expiring, revocable (apiKeyRevoke), and audited. Only the SHA-256 of a
/// secret is stored: the secret is shown once, at creation.
/// </summary>
public sealed class ApiKeyService(GatewayOptions options, IApiKeyStore store, AuditLog audit, TimeProvider time)
{
    public const string Prefix = "qk_";
    public const int MaxExpiresInDays = 365;
    private const int MaxNameLength = 200;
    private const int MaxSecretLength = 256;
    // Writing "last used" on every request would make each request a database write; once a minute is enough to see use.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Whether the Authorization header carries an API key rather than a JWT.</summary>
    public static bool IsApiKeyHeader(string? authorizationHeader)
    {
        const string Bearer = "Bearer ";
        return authorizationHeader is not null
            && authorizationHeader.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)
            && authorizationHeader.AsSpan(Bearer.Length).TrimStart().StartsWith(Prefix, StringComparison.Ordinal);
    }

    /// <summary>The SHA-256 (hex) of a secret: what is stored and looked up. A secret has 256 random bits, so no slow hash is needed.</summary>
    public static string HashSecret(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Verifies "Authorization: Bearer qk_…" and maps it to its user; never logs or returns the secret.</summary>
    public async Task<AuthenticationResult> AuthenticateAsync(string authorizationHeader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorizationHeader);
        var secret = authorizationHeader["Bearer ".Length..].Trim();
        if (secret.Length > MaxSecretLength)
            return new AuthenticationResult(null, "the API key is too long", null);
        var key = await store.FindApiKeyBySecretHashAsync(HashSecret(secret), cancellationToken).ConfigureAwait(false);
        if (key is null)
            return new AuthenticationResult(null, "the API key is not known here: it was revoked, or never issued by this gateway. Create a new one (apiKeyCreate)", null);
        var now = time.GetUtcNow();
        if (key.Expires <= now)
            return new AuthenticationResult(null, $"the API key '{key.Name}' expired at {key.Expires:u}: create a new one (apiKeyCreate)", key.Subject);

        // Roles the gateway still configures; the users.* entry as configured now.
        var roles = key.Roles.ToList();
        var isAdmin = key.IsAdmin;
        if (options.Users.TryGetValue(key.Subject, out var entry))
        {
            roles.AddRange(entry.Roles);
            isAdmin |= entry.Admin;
        }
        var granted = roles.Where(r => options.Roles.ContainsKey(r)).Distinct(StringComparer.Ordinal).ToList();
        if (granted.Count == 0 && options.DefaultRole is not null)
            granted.Add(options.DefaultRole);
        if (granted.Count == 0)
            return new AuthenticationResult(null, $"no role is granted to '{key.Subject}': the roles of API key '{key.Name}' are no longer configured on this gateway. Ask its admin for a role", key.Subject) { NoRole = true };

        if (key.LastUsed is not { } used || now - used >= LastUsedResolution)
            await store.SetApiKeyUsedAsync(key.Id, now, cancellationToken).ConfigureAwait(false);
        var user = new GatewayUser(key.Subject, key.UserName, key.Email, isAdmin, granted, granted[0]) { ApiKeyId = key.Id };
        return new AuthenticationResult(user, null, key.Subject);
    }

    /// <summary>Creates a key for the caller; returns it and its secret (shown only now). Refused for a caller who came with a key.</summary>
    public async Task<(ApiKeyView Key, string Secret)> CreateAsync(Caller caller, string name, int expiresInDays, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "apiKeyCreate";
        async Task<GatewayException> Refuse(string message, string path)
        {
            await audit.DeniedAsync(caller, Action, null, message, null, cancellationToken).ConfigureAwait(false);
            return GatewayException.Invalid(message, path);
        }

        // A leaked key must not be able to mint fresh keys that outlive its own revocation.
        if (caller.User.ApiKeyId is not null)
            throw await Refuse("API keys are created with a sign-in token (JWT), not with another API key.", "input").ConfigureAwait(false);
        name = (name ?? "").Trim();
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
            throw await Refuse($"Give the key a name of 1 to {MaxNameLength} characters without control characters.", "input.name").ConfigureAwait(false);
        if (expiresInDays is < 1 or > MaxExpiresInDays)
            throw await Refuse($"expiresInDays must be from 1 to {MaxExpiresInDays}.", "input.expiresInDays").ConfigureAwait(false);

        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var hash = HashSecret(secret);
        var now = time.GetUtcNow();
        var record = new ApiKeyRecord(
            "ak_" + Base64Url(RandomNumberGenerator.GetBytes(12)), hash, Prefix + hash[..12], name, caller.Subject, caller.User.Name, caller.User.Email,
            caller.User.IsAdmin, caller.User.GrantedRoles, now, now.AddDays(expiresInDays), null);
        // Recorded before the secret is handed out, as every other grant is.
        await audit.AllowedAsync(caller, Action, "apiKey:" + record.Id,
            SqlGatewayStore.Details(("name", name), ("fingerprint", record.Fingerprint), ("expires", record.Expires.ToString("O", System.Globalization.CultureInfo.InvariantCulture))),
            cancellationToken).ConfigureAwait(false);
        await store.CreateApiKeyAsync(record, cancellationToken).ConfigureAwait(false);
        return (View(record, now), secret);
    }

    /// <summary>Revokes one of the caller's keys by id, or any key by its secret (whoever holds it may end it).</summary>
    public async Task RevokeAsync(Caller caller, string? id, string? secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "apiKeyRevoke";
        if ((id is null) == (secret is null))
        {
            const string Message = "Give either the key's id or its secret.";
            await audit.DeniedAsync(caller, Action, null, Message, null, cancellationToken).ConfigureAwait(false);
            throw GatewayException.Invalid(Message, id is null ? "id" : "secret");
        }
        ApiKeyRecord? key;
        if (secret is not null)
            key = secret.Length > MaxSecretLength ? null : await store.FindApiKeyBySecretHashAsync(HashSecret(secret.Trim()), cancellationToken).ConfigureAwait(false);
        else
            key = (await store.ListApiKeysAsync(caller.Subject, cancellationToken).ConfigureAwait(false)).FirstOrDefault(k => k.Id == id);
        if (key is null || !await store.DeleteApiKeyAsync(key.Id, key.Subject, cancellationToken).ConfigureAwait(false))
        {
            var message = secret is not null ? "No API key has that secret (it may be revoked already)." : $"You have no API key with id '{id}' (it may be revoked already).";
            await audit.DeniedAsync(caller, Action, id is null ? null : "apiKey:" + id, message, null, cancellationToken).ConfigureAwait(false);
            throw GatewayException.Missing(message, secret is not null ? "secret" : "id");
        }
        await audit.AllowedAsync(caller, Action, "apiKey:" + key.Id, SqlGatewayStore.Details(("name", key.Name), ("fingerprint", key.Fingerprint), ("owner", key.Subject)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The caller's keys (filtered as Me.apiKeys filters them), oldest first.</summary>
    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var now = time.GetUtcNow();
        return (await store.ListApiKeysAsync(caller.Subject, cancellationToken).ConfigureAwait(false)).Select(k => View(k, now)).ToList();
    }

    private static ApiKeyView View(ApiKeyRecord k, DateTimeOffset now) =>
        new(k.Id, k.Name, k.Fingerprint, k.Created, k.Expires, k.LastUsed, k.Email, k.Expires <= now);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
