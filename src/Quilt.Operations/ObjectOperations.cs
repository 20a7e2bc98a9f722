using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// What can be done to objects in buckets (list, info, read, fetch, link, put, copy, delete), with arguments already
/// resolved by <see cref="ObjectUriResolver"/> under the bucket policy. The MCP tools and the CLI's object commands are
/// adapters over it.
/// </summary>
public sealed class ObjectOperations(IObjectStore store, ObjectUriResolver uris, BucketAccessPolicy policy, OperationSettings settings)
{
    public IObjectStore Store { get; } = store;
    public ObjectUriResolver Uris { get; } = uris;
    public BucketAccessPolicy Policy { get; } = policy;
    public OperationSettings Settings { get; } = settings;
}
