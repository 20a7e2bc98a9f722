namespace Quilt.Packages;

/// <summary>A package operation that cannot be done; the message says why and what to do instead.</summary>
public class PackageException : Exception
{
    public PackageException(string message) : base(message) { }
    public PackageException(string message, Exception inner) : base(message, inner) { }
}

public sealed class PackageNotFoundException(string name, string bucket)
    : PackageException($"No package '{name}' in registry '{bucket}'. List the packages to see which exist.")
{
    public string Name { get; } = name;
    public string Bucket { get; } = bucket;
}

/// <summary>A create that would replace an existing package without being told to.</summary>
public sealed class PackageExistsException(string name, string bucket, string latestTopHash)
    : PackageException($"Package '{name}' already exists in '{bucket}' (latest {latestTopHash}). Set overwrite to publish a new revision over it, or update it instead.")
{
    public string LatestTopHash { get; } = latestTopHash;
}

/// <summary>
/// A publish that would replace an existing manifest with other bytes (the same top hash, other physical keys), refused
/// by <see cref="PackageRegistry.KeepExistingManifests"/>: the existing revision is left as it is.
/// </summary>
public sealed class ManifestConflictException(string topHash, string bucket)
    : PackageException($"Registry '{bucket}' already holds a manifest {topHash} with other contents than this revision (the same entries at other physical keys, " +
        "or other bytes); it is kept as it is and nothing was published. Publish with another message or metadata to make a distinct revision.")
{
    public string TopHash { get; } = topHash;
}
