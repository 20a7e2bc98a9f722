namespace Quilt.Gateway.Identity;

/// <summary>
/// Who a verified token says the caller is. <see cref="GrantedRoles"/> are the roles they may act as (from the token's
/// claims, the config's users section, or the default role); <see cref="DefaultRole"/> is the one used until they
/// switch.
/// </summary>
public sealed record GatewayUser(string Subject, string Name, string Email, bool IsAdmin, IReadOnlyList<string> GrantedRoles, string? DefaultRole)
{
    public bool HasRole(string role) => GrantedRoles.Contains(role, StringComparer.Ordinal);

    /// <summary>The id of the Quilt API key the request came with; null for a JWT.</summary>
    public string? ApiKeyId { get; init; }
}
