using System.Text.Json.Nodes;

namespace Quilt.Registry;

/// <summary>The caller as the registry knows them: name, e-mail, admin, the active role and every role they may switch to.</summary>
public sealed record RegistryMe(string Name, string Email, bool IsAdmin, string? Role, IReadOnlyList<string> Roles);

/// <summary>What the active role may do under one bucket prefix ("" for the whole bucket), as quilt-gateway's myGrants says.</summary>
public sealed record RegistryGrant(string Bucket, string Prefix, bool Read, bool Write);

/// <summary>
/// The registry's package and account mutations beyond publishing: packageRevisionDelete, packagePromote and
/// switchRole (Quilt's own), and the caller's grants (quilt-gateway's myGrants; a stock registry has none).
/// </summary>
public sealed class RegistryAccountActions(RegistryApiClient client)
{
    /// <summary>Deletes one revision (full top hash) of a package; the registry moves latest, or removes the package with its last revision.</summary>
    public async Task DeleteRevisionAsync(string bucket, string name, string topHash, CancellationToken cancellationToken)
    {
        var operation = $"delete revision {topHash} of {name} in {bucket}";
        var data = await client.ExecuteAsync(RegistryOperations.PackageRevisionDelete,
            new JsonObject { ["bucket"] = bucket, ["name"] = name, ["hash"] = topHash }, operation, cancellationToken).ConfigureAwait(false);
        RegistryApiClient.Expect(data["packageRevisionDelete"], "PackageRevisionDeleteSuccess", operation);
    }

    /// <summary>
    /// Copies a revision to <paramref name="destinationBucket"/> as <paramref name="destinationName"/> on the registry's
    /// side (data included), with a message and metadata (the source's when null); returns the new top hash.
    /// </summary>
    public async Task<string> PromoteAsync(string sourceBucket, string sourceName, string sourceHash, string destinationBucket, string destinationName,
        string? message, JsonNode? userMeta, string? workflow, CancellationToken cancellationToken)
    {
        var operation = $"promote {sourceName}@{sourceHash[..Math.Min(12, sourceHash.Length)]} to {destinationName} in {destinationBucket}";
        var parameters = new JsonObject { ["bucket"] = destinationBucket, ["name"] = destinationName };
        if (message is not null)
            parameters["message"] = message;
        if (userMeta is not null)
            parameters["userMeta"] = userMeta.DeepClone();
        if (workflow is not null)
            parameters["workflow"] = workflow;
        var data = await client.ExecuteAsync(RegistryOperations.PackagePromote, new JsonObject
        {
            ["params"] = parameters,
            ["src"] = new JsonObject { ["bucket"] = sourceBucket, ["name"] = sourceName, ["hash"] = sourceHash },
        }, operation, cancellationToken).ConfigureAwait(false);
        var success = RegistryApiClient.Expect(data["packagePromote"], "PackagePushSuccess", operation);
        return success["revision"]?["hash"]?.GetValue<string>()
            ?? throw new RegistryException($"The registry answered {operation} without the new revision's hash.");
    }

    /// <summary>Makes <paramref name="role"/> the caller's active role; returns who they are now.</summary>
    public async Task<RegistryMe> SwitchRoleAsync(string role, CancellationToken cancellationToken)
    {
        var operation = $"switch to role '{role}'";
        var data = await client.ExecuteAsync(RegistryOperations.SwitchRole, new JsonObject { ["roleName"] = role }, operation, cancellationToken).ConfigureAwait(false);
        return ReadMe(RegistryApiClient.Expect(data["switchRole"], "Me", operation));
    }

    /// <summary>Who the caller is now, or null when the registry does not say (no user).</summary>
    public async Task<RegistryMe?> MeAsync(CancellationToken cancellationToken)
    {
        var data = await client.ExecuteAsync(RegistryOperations.Me, null, "read who you are", cancellationToken).ConfigureAwait(false);
        return data["me"] is JsonObject me ? ReadMe(me) : null;
    }

    /// <summary>The active role's grants, or null when the registry does not tell them (a stock Quilt registry has no myGrants).</summary>
    public async Task<IReadOnlyList<RegistryGrant>?> GrantsAsync(CancellationToken cancellationToken)
    {
        JsonObject data;
        try
        {
            data = await client.ExecuteAsync(RegistryOperations.MyGrants, null, "read your grants", cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryFeatureMissingException)
        {
            return null;
        }
        return data["myGrants"] is JsonArray grants
            ? grants.OfType<JsonObject>().Select(g => new RegistryGrant(
                g["bucket"]!.GetValue<string>(), g["prefix"]?.GetValue<string>() ?? "", g["read"]?.GetValue<bool>() ?? false, g["write"]?.GetValue<bool>() ?? false)).ToList()
            : [];
    }

    private static RegistryMe ReadMe(JsonObject me)
    {
        static string? Name(JsonNode? role) => role?["name"]?.GetValue<string>();
        return new RegistryMe(
            me["name"]?.GetValue<string>() ?? "",
            me["email"]?.GetValue<string>() ?? "",
            me["isAdmin"]?.GetValue<bool>() ?? false,
            Name(me["role"]),
            me["roles"] is JsonArray roles ? roles.Select(Name).OfType<string>().ToList() : []);
    }
}
