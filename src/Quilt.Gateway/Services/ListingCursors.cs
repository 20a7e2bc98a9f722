using System.Security.Cryptography;
using System.Text;
using Quilt.Core;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Services;

/// <summary>What a listing cursor is good for: one listing (bucket, prefix, delimiter) by one caller (subject, role).</summary>
public sealed record ListingCursorBinding(string Bucket, string Prefix, string? Delimiter, string Subject, string Role);

/// <summary>
/// Listing cursors as callers see them: S3's continuation token sealed (<see cref="CursorSealer"/>) under the gateway's
/// key, bound to the listing and the caller. A caller can neither read the token (S3 servers such as Ceph use the next
/// key, which may lie outside the caller's grant) nor make, alter or reuse one for another listing, user or role.
/// </summary>
public sealed class ListingCursors(byte[] secret)
{
    /// <summary>The name of the generated secret in the database.</summary>
    public const string SecretName = "listing-cursor";

    private readonly CursorSealer _sealer = new(secret, "quilt-gateway listing cursor v1");

    /// <summary>With <see cref="GatewayOptions.CursorSecret"/>, or else the secret kept in the database (made at the first start).</summary>
    public static async Task<ListingCursors> CreateAsync(GatewayOptions options, IStateStore state, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        if (!string.IsNullOrEmpty(options.CursorSecret))
            return new ListingCursors(Encoding.UTF8.GetBytes(options.CursorSecret));
        var stored = await state.GetOrAddSecretAsync(SecretName, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return new ListingCursors(Convert.FromBase64String(stored));
    }

    /// <summary>The cursor for <paramref name="continuationToken"/> in the listing <paramref name="binding"/> names.</summary>
    public string Seal(ListingCursorBinding binding, string continuationToken)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentNullException.ThrowIfNull(continuationToken);
        return _sealer.Seal(Encoding.UTF8.GetBytes(continuationToken), binding.Bucket, binding.Prefix, binding.Delimiter, binding.Subject, binding.Role);
    }

    /// <summary>The continuation token inside <paramref name="cursor"/>; null unless this gateway sealed it for exactly this listing and caller.</summary>
    public string? Open(ListingCursorBinding binding, string cursor)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return _sealer.Open(cursor, binding.Bucket, binding.Prefix, binding.Delimiter, binding.Subject, binding.Role) is { } token
            ? Encoding.UTF8.GetString(token)
            : null;
    }
}
