using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

public sealed record ObjectPage(string Bucket, string Prefix, IReadOnlyList<ObjectSummary> Objects, IReadOnlyList<string> Prefixes, string? Cursor);

/// <summary>
/// Listing and object info for the MCP tools, limited to what the active role may read. Listing cursors are sealed
/// (<see cref="ListingCursors"/>), so paging can neither reveal nor start from keys outside the listing asked for.
/// </summary>
public sealed class ObjectService(RolePolicy policy, S3Access s3, AuditLog audit, ListingCursors cursors)
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
        var binding = new ListingCursorBinding(bucket, prefix, delimiter, caller.Subject, caller.Role);
        string? continuation = null;
        if (!string.IsNullOrEmpty(after))
        {
            continuation = cursors.Open(binding, after);
            if (continuation is null)
            {
                var reason = "after is not a cursor this gateway returned for this listing: pass the cursor of the previous page of the same listing " +
                    "(same bucket, prefix and delimiter, same user and role), or leave after out to start at the beginning.";
                await audit.DeniedAsync(caller, "bucketObjects", $"s3://{bucket}/{prefix}", reason, null, cancellationToken).ConfigureAwait(false);
                throw GatewayException.Invalid(reason, "after");
            }
        }
        ObjectListing page;
        try
        {
            page = await s3.StoreFor(caller.Role).ListAsync(new ListRequest(bucket, prefix, delimiter, first, continuation), cancellationToken).ConfigureAwait(false);
        }
        catch (BucketNotFoundException ex)
        {
            throw GatewayException.Missing(ex.Message, "bucket");
        }
        // Whatever S3 answers, only what the grants show is passed on.
        return new ObjectPage(bucket, prefix,
            page.Objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal) && scope.ShowsKey(o.Key)).ToArray(),
            page.CommonPrefixes.Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && scope.ShowsPrefix(p)).ToArray(),
            page.NextContinuationToken is { } next ? cursors.Seal(binding, next) : null);
    }

    public async Task<ObjectInfo> HeadAsync(Caller caller, string bucket, string key, string? version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!ObjectKeys.IsValidBucketName(bucket))
            throw GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", "bucket");
        if (ObjectKeys.Validate(key) is { } bad)
            throw GatewayException.Invalid($"Key '{key}' is not allowed: {bad}.", "key");
        var decision = policy.CheckObject(caller, bucket, key, AccessKind.Read);
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
