using Quilt.Operations.Models;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>The caller's role on a Quilt registry server (switchRole): which one acts, and which others they may switch to.</summary>
public sealed class RoleOperations(IObjectStore store)
{
    /// <summary>
    /// Switches to <paramref name="role"/> (null: only reports the current role) and lists the caller's roles. Only in
    /// registry mode: S3 and local storage have no roles.
    /// </summary>
    public async Task<RoleSwitchResult> SwitchAsync(string? role, CancellationToken cancellationToken)
    {
        if (store is not RegistryApiObjectStore registry)
        {
            throw new OperationException("Roles belong to a Quilt registry: this server works with S3 or a local folder directly, whose rights are "
                + "those of its credentials. Start it with --registry-url to act through a registry's roles.");
        }
        var actions = new RegistryAccountActions(registry.Client);
        var wanted = string.IsNullOrWhiteSpace(role) ? null : role.Trim();
        var me = wanted is null
            ? await actions.MeAsync(cancellationToken) ?? throw new OperationException("The registry does not say who you are: is the token a user's?")
            : await actions.SwitchRoleAsync(wanted, cancellationToken);
        return new RoleSwitchResult(me.Role, me.Roles, wanted is not null);
    }
}
