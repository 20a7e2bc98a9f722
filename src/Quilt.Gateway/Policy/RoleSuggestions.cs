using Quilt.Gateway.Services;

namespace Quilt.Gateway.Policy;

/// <summary>A refusal that says which of the caller's other roles would allow the action, so they know whether switching helps.</summary>
public static class RoleSuggestions
{
    /// <summary>As <see cref="RolePolicy.CheckObject"/> for the caller's active role; a refusal names the caller's roles that may.</summary>
    public static AccessDecision CheckObject(this RolePolicy policy, Caller caller, string bucket, string key, AccessKind access)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(caller);
        var decision = policy.CheckObject(caller.Role, bucket, key, access);
        return decision.Allowed ? decision : AccessDecision.Deny(decision.Reason + " " + Hint(policy, caller, bucket, key, access));
    }

    /// <summary>"Role 'x' (also yours) may: switch to it (switchRole)." or that none of the caller's roles may.</summary>
    public static string Hint(RolePolicy policy, Caller caller, string bucket, string key, AccessKind access)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(caller);
        var allowing = caller.User.GrantedRoles
            .Where(r => r != caller.Role && policy.CheckObject(r, bucket, key, access).Allowed)
            .Select(r => $"'{r}'")
            .ToArray();
        return allowing.Length switch
        {
            0 => "None of your roles may: ask this gateway's admin for a role that does.",
            1 => $"Your role {allowing[0]} may: switch to it (switchRole, or the role_switch tool) and retry.",
            _ => $"Your roles {string.Join(", ", allowing)} may: switch to one (switchRole, or the role_switch tool) and retry.",
        };
    }
}
