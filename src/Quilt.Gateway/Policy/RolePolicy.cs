using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.Policy;

public enum AccessKind
{
    Read,
    Write,
}

/// <summary>What a role may do under one bucket prefix ("" = the whole bucket).</summary>
public sealed record Grant(string Bucket, string Prefix, bool Read, bool Write, long MaxUploadBytes)
{
    public bool Allows(AccessKind access) => access == AccessKind.Read ? Read : Write;

    public bool Covers(string bucket, string key) =>
        string.Equals(Bucket, bucket, StringComparison.Ordinal) && key.StartsWith(Prefix, StringComparison.Ordinal);

    public override string ToString() => $"s3://{Bucket}/{Prefix}";
}

public sealed record RoleDefinition(string Name, IReadOnlyList<Grant> Grants, string? AssumeRoleArn);

/// <summary>A policy answer. When allowed, <see cref="Grant"/> is the most specific grant that allows it.</summary>
public sealed record AccessDecision(bool Allowed, Grant? Grant, string? Reason)
{
    public static AccessDecision Allow(Grant grant) => new(true, grant, null);
    public static AccessDecision Deny(string reason) => new(false, null, reason);
}

/// <summary>Roles from the configuration, and what each may read and write.</summary>
public sealed class RolePolicy
{
    private readonly Dictionary<string, RoleDefinition> _roles;

    public RolePolicy(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _roles = options.Roles.ToDictionary(
            kv => kv.Key,
            kv => new RoleDefinition(kv.Key,
                kv.Value.Grants.Select(g => new Grant(g.Bucket, g.Prefix ?? "", g.Read, g.Write, g.MaxUploadBytes)).ToArray(),
                kv.Value.AssumeRoleArn),
            StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> RoleNames => _roles.Keys;

    public RoleDefinition? Find(string role) => _roles.GetValueOrDefault(role);

    /// <summary>Whether <paramref name="role"/> may read or write the object at bucket/key.</summary>
    public AccessDecision CheckObject(string role, string bucket, string key, AccessKind access)
    {
        if (Find(role) is not { } definition)
            return AccessDecision.Deny($"role '{role}' is not configured on this gateway");
        var grant = definition.Grants
            .Where(g => g.Allows(access) && g.Covers(bucket, key))
            .OrderByDescending(g => g.Prefix.Length)
            .FirstOrDefault();
        return grant is null ? AccessDecision.Deny(DenyMessage(definition, bucket, key, access)) : AccessDecision.Allow(grant);
    }

    /// <summary>Whether <paramref name="role"/> may read (or write) every key under bucket/prefix.</summary>
    public AccessDecision CheckPrefix(string role, string bucket, string prefix, AccessKind access) =>
        CheckObject(role, bucket, prefix, access);

    /// <summary>
    /// What a listing of bucket/prefix may show: everything (a grant covers the whole prefix), only the parts under
    /// narrower grants (returned as their prefixes), or nothing (null).
    /// </summary>
    public ListingScope? ListingScope(string role, string bucket, string prefix)
    {
        if (Find(role) is not { } definition)
            return null;
        var reads = definition.Grants.Where(g => g.Read && string.Equals(g.Bucket, bucket, StringComparison.Ordinal)).ToArray();
        if (reads.Any(g => prefix.StartsWith(g.Prefix, StringComparison.Ordinal)))
            return new ListingScope(true, []);
        var narrower = reads.Where(g => g.Prefix.StartsWith(prefix, StringComparison.Ordinal)).Select(g => g.Prefix).ToArray();
        return narrower.Length == 0 ? null : new ListingScope(false, narrower);
    }

    /// <summary>The buckets a role may read or write anything in, in configuration order.</summary>
    public IReadOnlyList<string> Buckets(string role) =>
        Find(role)?.Grants.Select(g => g.Bucket).Distinct(StringComparer.Ordinal).ToArray() ?? [];

    public bool CanWriteAnywhere(string role, string bucket) =>
        Find(role)?.Grants.Any(g => g.Write && string.Equals(g.Bucket, bucket, StringComparison.Ordinal)) == true;

    private static string DenyMessage(RoleDefinition role, string bucket, string key, AccessKind access)
    {
        var verb = access == AccessKind.Read ? "read" : "write";
        var allowed = role.Grants.Where(g => g.Allows(access)).Select(g => g.ToString()).ToArray();
        var where = allowed.Length == 0 ? $"it may {verb} nothing" : $"it may {verb} only under {string.Join(", ", allowed)}";
        return $"role '{role.Name}' may not {verb} s3://{bucket}/{key}: {where}.";
    }
}

/// <summary>The part of a listing a role may see: all of it, or only keys under <see cref="Prefixes"/>.</summary>
public sealed record ListingScope(bool Whole, IReadOnlyList<string> Prefixes)
{
    public bool ShowsKey(string key) => Whole || Prefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    /// <summary>A common prefix is shown when it leads to or lies within a readable prefix.</summary>
    public bool ShowsPrefix(string commonPrefix) =>
        Whole || Prefixes.Any(p => p.StartsWith(commonPrefix, StringComparison.Ordinal) || commonPrefix.StartsWith(p, StringComparison.Ordinal));
}
