

namespace Quilt.Operations;

/// <summary>The server's rules on which buckets the tools may read and whether they may write at all.</summary>
public sealed class BucketAccessPolicy(OperationSettings settings)
{
    private readonly HashSet<string> _allowed = new(settings.AllowedBuckets, StringComparer.Ordinal);

    public bool ReadOnly => settings.ReadOnly;

    public IReadOnlyList<string> AllowedBuckets => settings.AllowedBuckets;

    public bool IsAllowed(string bucket) => _allowed.Count == 0 || _allowed.Contains(bucket);

    /// <summary>Refuses buckets outside the allow-list; <paramref name="argument"/> names where the bucket came from.</summary>
    public void EnsureCanRead(string bucket, string? argument = null)
    {
        if (!IsAllowed(bucket))
            throw NotAllowed(bucket, argument);
    }

    public void EnsureCanWrite(string bucket, string? argument = null)
    {
        if (settings.ReadOnly)
        {
            throw new OperationException(
                "This server is read-only (--read-only or QUILT_MCP_READ_ONLY): it does not put, copy or delete objects. "
                + "Nothing was written. Restart the server without read-only to allow writes.");
        }
        EnsureCanRead(bucket, argument);
    }

    private OperationException NotAllowed(string bucket, string? argument) => new(
        (argument is null ? "" : argument + ": ") + $"Bucket '{bucket}' is not one this server may use; it may use: {string.Join(", ", settings.AllowedBuckets)}. "
        + $"Use one of those (buckets_list shows them), or restart the server with --bucket {bucket}.");
}
