using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Policy;

namespace Quilt.Gateway.Services;

public sealed record BucketView(string Name, BucketOptions? Display, bool CanWrite);

/// <summary>Which role a user acts as (their last switchRole choice while still granted, else their default) and what it sees.</summary>
public sealed class RoleService(GatewayOptions options, RolePolicy policy, IStateStore state, AuditLog audit, TimeProvider time)
{
        public async Task<string> ActiveRoleAsync(GatewayUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var chosen = await state.GetActiveRoleAsync(user.Subject, cancellationToken).ConfigureAwait(false);
        if (chosen is not null && user.HasRole(chosen) && policy.Find(chosen) is not null)
            return chosen;
        return user.DefaultRole ?? user.GrantedRoles[0];
    }

    /// <summary>Switches the caller to <paramref name="roleName"/>; throws a BAD_REQUEST when it is not granted to them.</summary>
    public async Task<Caller> SwitchAsync(Caller caller, string roleName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.User.HasRole(roleName) || policy.Find(roleName) is null)
        {
            var message = $"Role '{roleName}' is not granted to you; your roles are: {string.Join(", ", caller.User.GrantedRoles)}.";
            await audit.DeniedAsync(caller, "switchRole", roleName, message, null, cancellationToken).ConfigureAwait(false);
            throw GatewayException.Invalid(message, "roleName");
        }
        await state.SetActiveRoleAsync(caller.Subject, roleName, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var switched = caller with { Role = roleName };
        await audit.AllowedAsync(switched, "switchRole", roleName, SqlGatewayStore.Details(("from", caller.Role)), cancellationToken).ConfigureAwait(false);
        return switched;
    }

    /// <summary>The buckets the role may read or write anything in, with their display settings.</summary>
    public IReadOnlyList<BucketView> Buckets(string role) =>
        policy.Buckets(role).Select(b => new BucketView(b, options.Buckets.GetValueOrDefault(b), policy.CanWriteAnywhere(role, b))).ToArray();

    public IReadOnlyList<Grant> Grants(string role) => policy.Find(role)?.Grants ?? [];
}
