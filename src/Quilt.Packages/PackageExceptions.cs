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
