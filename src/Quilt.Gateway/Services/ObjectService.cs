using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

public sealed record ObjectPage(string Bucket, string Prefix, IReadOnlyList<ObjectSummary> Objects, IReadOnlyList<string> Prefixes, string? Cursor);

/// <summary>Listing and object info for the MCP tools, limited to what the active role may read.</summary>
public sealed class ObjectService(RolePolicy policy, S3Access s3, AuditLog audit)
{
    public async Task<ObjectPage> ListAsync(Caller caller, string bucket, string prefix, string? delimiter, int first, string? after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        prefix ??= "";
        if (!ObjectKeys.IsValidBucketName(bucket))
            throw GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", "bucket");
        if (ObjectKeys.ValidatePrefix(prefix) is { } bad)
            throw GatewayException.Invalid($"Prefix '{prefix}' cannot be listed: {bad}.", "prefix");
        if (first is < 1 or > 1000)
            throw GatewayException.Invalid($"first {first} is out of range: use 1 to 1000.", "first");
        if (delimiter is { Length: 0 })
            delimiter = null;
        var scope = policy.ListingScope(caller.Role, bucket, prefix);
        if (scope is null)
        {
            var reason = $"role '{caller.Role}' may not read anything under s3://{bucket}/{prefix}. List a prefix you may read (see myGrants), or switch role.";
            await audit.DeniedAsync(caller, "bucketObjects", $"s3://{bucket}/{prefix}", reason, null, cancellationToken).ConfigureAwait(false);
            throw GatewayException.Denied(reason, "prefix");
        }
        ObjectListing page;
        try
        {
            page = await s3.StoreFor(caller.Role).ListAsync(new ListRequest(bucket, prefix, delimiter, first, after), cancellationToken).ConfigureAwait(false);
        }
        catch (BucketNotFoundException ex)
        {
            throw GatewayException.Missing(ex.Message, "bucket");
        }
        return new ObjectPage(bucket, prefix,
            page.Objects.Where(o => scope.ShowsKey(o.Key)).ToArray(),
            page.CommonPrefixes.Where(scope.ShowsPrefix).ToArray(),
            page.NextContinuationToken);
    }

    public async Task<ObjectInfo> HeadAsync(Caller caller, string bucket, string key, string? version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!ObjectKeys.IsValidBucketName(bucket))
            throw GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", "bucket");
        if (ObjectKeys.Validate(key) is { } bad)
            throw GatewayException.Invalid($"Key '{key}' is not allowed: {bad}.", "key");
        var decision = policy.CheckObject(caller.Role, bucket, key, AccessKind.Read);
        if (!decision.Allowed)
        {
            await audit.DeniedAsync(caller, "bucketObject", $"s3://{bucket}/{key}", decision.Reason!, null, cancellationToken).ConfigureAwait(false);
            throw GatewayException.Denied(decision.Reason!, "key");
        }
        try
        {
            return await s3.StoreFor(caller.Role).HeadAsync(new ObjectRef(bucket, key, string.IsNullOrEmpty(version) ? null : version), cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException ex)
        {
            throw GatewayException.Missing(ex.Message, "key");
        }
        catch (BucketNotFoundException ex)
        {
            throw GatewayException.Missing(ex.Message, "bucket");
        }
    }
}
