using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// Turns a package entry URI (<c>quilt+s3://bucket#package=user/name@hash&amp;path=file.csv</c>) into the object that holds
/// its bytes. The object tools call it for every quilt+s3 URI that names a package; URIs without a package are plain
/// s3://bucket/path and never reach it.
/// </summary>
public interface IPackageEntryResolver
{
    /// <summary>Throws <see cref="OperationException"/> or <see cref="StorageException"/> with a user-facing message on failure.</summary>
    Task<PackageEntryObject> ResolveAsync(QuiltUri uri, CancellationToken cancellationToken);
}

/// <summary>The object holding a package entry's bytes, and the entry, whose recorded size and hash a whole read is checked against.</summary>
public sealed record PackageEntryObject(ObjectRef Object, ManifestEntry Entry);
