using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>The rules every operation runs under, whichever front end started it: storage, allowed buckets, limits.</summary>
public record OperationSettings
{
    public const long DefaultMaxInlineBytes = 1024 * 1024;
    public const int DefaultMaxTextBytes = 256 * 1024;

    /// <summary>Base64 inflates by a third and the whole answer is one JSON message: keep inline content modest.</summary>
    public const long MaxMaxInlineBytes = 64L * 1024 * 1024;
    public const int MaxMaxTextBytes = 16 * 1024 * 1024;

    /// <summary>The local folder or S3 (unused in registry mode).</summary>
    public required StorageSettings Storage { get; init; }

    /// <summary>The Quilt registry server every operation goes through (registry mode), or null for <see cref="Storage"/>.</summary>
    public Uri? RegistryUrl { get; init; }

    /// <summary>The buckets operations may touch; empty means every bucket the credentials reach.</summary>
    public IReadOnlyList<string> AllowedBuckets { get; init; } = [];

    public bool ReadOnly { get; init; }

    /// <summary>Largest object returned inline by fetch, and largest inline text/base64 accepted by put.</summary>
    public long MaxInlineBytes { get; init; } = DefaultMaxInlineBytes;

    /// <summary>Largest byte range a text read takes in one call.</summary>
    public int MaxTextBytes { get; init; } = DefaultMaxTextBytes;

    /// <summary>A Quilt catalog host (e.g. <c>open.quiltdata.com</c>) for catalog links; null for none.</summary>
    public string? CatalogHost { get; init; }

    /// <summary>The bucket holding packages when a call names none (--registry-bucket, else QUILT_MCP_REGISTRY); null: the policy's default.</summary>
    public string? DefaultRegistry { get; init; }

    public bool IsRegistryMode => RegistryUrl is not null;

    /// <summary>Whether operations may read and write files on this machine (put from a local path, fetch to a destination).</summary>
    public virtual bool LocalFilesAllowed => true;
}
