using System.ComponentModel;
using ModelContextProtocol.Server;
using Quilt.Operations;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tools;

/// <summary>The caller's role on a Quilt registry (registry mode).</summary>
[McpServerToolType]
public sealed class RoleTools(RoleOperations operations)
{
    [McpServerTool(Name = "role_switch", Title = "Switch role", ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Registry mode: act as another of your roles (switchRole); lists your roles. Without role, only lists them. Then buckets_list.")]
    public async Task<RoleSwitchResult> SwitchRole(
        [Description("A role from roles.")] string? role = null,
        CancellationToken cancellationToken = default) =>
        await operations.SwitchAsync(role, cancellationToken);
}
