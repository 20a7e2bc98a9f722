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
    : PackageException($"Package '{name}' already exists in '{bucket}' (latest {latestTopHash}). Set overwrite (--overwrite on the command line) to publish a "
        + "new revision over it, or change it with a patch instead (package_patch; quilt-mcp package patch).")
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

/// <summary>
/// A folder to package holds symbolic links that lead out of it, nowhere, or round in a loop: nothing is packaged, since
/// following them could publish a file from elsewhere unseen, and leaving them out would lose what they name unsaid.
/// </summary>
public sealed class SymbolicLinkRefusedException(string folder, IReadOnlyList<string> links)
    : PackageException(Describe(folder, links))
{
    /// <summary>Each refused link as "'logical key' -> 'target' (why)".</summary>
    public IReadOnlyList<string> Links { get; } = links;

    private const int Shown = 20;

    private static string Describe(string folder, IReadOnlyList<string> links)
    {
        var listed = string.Join("; ", links.Take(Shown)) + (links.Count > Shown ? $"; and {links.Count - Shown} more" : "");
        return $"'{folder}' has {(links.Count == 1 ? "a symbolic link" : $"{links.Count} symbolic links")} that cannot be packaged with it: {listed}. " +
            "Nothing was packaged. To include what a link leads to on purpose, give that path as a source of its own under the key you want " +
            "(KEY=/path/to/target on the command line; uri and logicalKey in package_create or package_patch), or copy it into the folder; " +
            $"to leave a link out, remove it or name it in the folder's {QuiltIgnore.FileName}.";
    }
}
