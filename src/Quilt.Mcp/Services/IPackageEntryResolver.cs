using ModelContextProtocol;
using Quilt.Core;
using Quilt.Storage;

namespace Quilt.Mcp.Services;

/// <summary>
/// Turns a package entry URI (<c>quilt+s3://bucket#package=user/name@hash&amp;path=file.csv</c>) into the object that holds
/// its bytes. The object tools call it for every quilt+s3 URI that names a package; URIs without a package are plain
/// s3://bucket/path and never reach it.
/// </summary>
public interface IPackageEntryResolver
{
    /// <summary>Throws <see cref="McpException"/> or <see cref="StorageException"/> with a user-facing message on failure.</summary>
    Task<ObjectRef> ResolveAsync(QuiltUri uri, CancellationToken cancellationToken);
}

/// <summary>The default until package support is registered: every package URI is a clear tool error.</summary>
public sealed class UnsupportedPackageEntryResolver : IPackageEntryResolver
{
    public Task<ObjectRef> ResolveAsync(QuiltUri uri, CancellationToken cancellationToken) =>
        throw new McpException(
            $"'{uri}' names a package entry, and this server cannot read packages yet. "
            + "Use the entry's s3://bucket/key URI instead, or quilt+s3://bucket#path=key without a package.");
}
