using Quilt.Storage;

namespace Quilt.Testing;

/// <summary>A real store seen through a wrapper: override what a test watches or paces; everything else passes through.</summary>
public class DelegatingObjectStore(IObjectStore inner) : IObjectStore
{
    public IObjectStore Inner => inner;

    public string Scheme => inner.Scheme;

    public virtual Task<bool> IsVersionedAsync(string bucket, CancellationToken cancellationToken = default) => inner.IsVersionedAsync(bucket, cancellationToken);

    public virtual Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default) => inner.ListBucketsAsync(cancellationToken);

    public virtual Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken = default) => inner.ListAsync(request, cancellationToken);

    public virtual Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.HeadAsync(obj, cancellationToken);

    public virtual Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(obj, range, cancellationToken);

    public virtual Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        inner.PutAsync(request, content, progress, cancellationToken);

    public virtual Task<PutResult> CopyAsync(ObjectRef source, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default) =>
        inner.CopyAsync(source, destinationBucket, destinationKey, cancellationToken);

    public virtual Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.DeleteAsync(obj, cancellationToken);

    public virtual Task<Uri> GetDownloadUrlAsync(ObjectRef obj, TimeSpan expiresIn, CancellationToken cancellationToken = default) =>
        inner.GetDownloadUrlAsync(obj, expiresIn, cancellationToken);

    public TimeSpan MaxDownloadUrlLifetime => inner.MaxDownloadUrlLifetime;

    public string ToPhysicalKey(ObjectRef obj) => inner.ToPhysicalKey(obj);

    public ObjectRef? FromPhysicalKey(string physicalKey) => inner.FromPhysicalKey(physicalKey);
}
