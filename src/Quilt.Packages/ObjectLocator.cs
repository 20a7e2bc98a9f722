using Quilt.Core;
using Quilt.Storage;

namespace Quilt.Packages;

/// <summary>
/// Opens what a physical key names: an object in one of the configured stores, or (only when allowed, as on a user's
/// own command line) a local file outside every store. A server must not let a manifest point it at arbitrary files.
/// </summary>
public sealed class ObjectLocator(IReadOnlyList<IObjectStore> stores, bool allowLocalFilesOutsideStores)
{
    public IReadOnlyList<IObjectStore> Stores { get; } = stores;

    public (IObjectStore Store, ObjectRef Ref)? Resolve(string physicalKey)
    {
        foreach (var store in Stores)
        {
            if (store.FromPhysicalKey(physicalKey) is { } objectRef)
                return (store, objectRef);
        }
        return null;
    }

    public async Task<Stream> OpenReadAsync(string physicalKey, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        if (Resolve(physicalKey) is var (store, objectRef))
            return await store.OpenReadAsync(objectRef, range, cancellationToken).ConfigureAwait(false);
        var path = LocalPath(physicalKey);
        if (!File.Exists(path))
            throw new PackageException($"The file {physicalKey} that this entry points to does not exist any more.");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        if (range is { } r)
        {
            stream.Seek(r.Offset, SeekOrigin.Begin);
            if (r.Length is { } length)
                return new BoundedReadStream(stream, length);
        }
        return stream;
    }

    private string LocalPath(string physicalKey)
    {
        PhysicalKey key;
        try
        {
            key = PhysicalKey.Parse(physicalKey);
        }
        catch (FormatException ex)
        {
            throw new PackageException(ex.Message, ex);
        }
        if (!key.IsLocal)
            throw new PackageException($"{physicalKey} is in S3, but no S3 storage is configured. Configure S3 storage to read it.");
        if (!allowLocalFilesOutsideStores)
            throw new PackageException($"{physicalKey} is a local file outside the configured storage; this server does not read such files.");
        return key.Path;
    }
}
