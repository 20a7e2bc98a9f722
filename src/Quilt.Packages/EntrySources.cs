using System.IO.Enumeration;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage;
using Quilt.Storage.Local;

namespace Quilt.Packages;

/// <summary>Where a new revision's entry comes from. <see cref="UserMeta"/> becomes the entry's meta.user_meta.</summary>
public abstract record EntrySource(string LogicalKey)
{
    public JsonNode? UserMeta { get; init; }

    /// <summary>
    /// With no <see cref="UserMeta"/>: JSON null was given for it, written as <c>"meta": {"user_meta": null}</c> as quilt3's
    /// set_meta(None) does (another top hash than no metadata, <c>{}</c>).
    /// </summary>
    public bool NullUserMeta { get; init; }

    /// <summary>Whether metadata was given for the entry (an object, another JSON value, or JSON null).</summary>
    public bool HasUserMeta => UserMeta is not null || NullUserMeta;
}

/// <summary>A file on this machine. With <see cref="AlwaysCopy"/> it is uploaded even when a build references data in place.</summary>
public sealed record LocalFileSource(string LogicalKey, string Path) : EntrySource(LogicalKey)
{
    public bool AlwaysCopy { get; init; }
}

/// <summary>An object in a store (s3://bucket/key, optionally one version).</summary>
public sealed record StoreObjectSource(string LogicalKey, IObjectStore Store, ObjectRef Object) : EntrySource(LogicalKey)
{
    /// <summary>
    /// The object's size and version as it was found (a HEAD, or a listing of an unversioned bucket), so the build does
    /// not look it up again; null: the build looks it up once.
    /// </summary>
    public ObjectInfo? Info { get; init; }

    /// <summary>The object's hash as the caller gives it (packageConstruct): a build that references data in place records it unread.</summary>
    public ObjectHash? Hash { get; init; }

    /// <summary>The entry's whole meta as given (packageConstruct's entry meta); when set it is the entry's meta, not <see cref="EntrySource.UserMeta"/>.</summary>
    public JsonObject? EntryMeta { get; init; }
}

/// <summary>Bytes given directly (for example text an assistant wrote).</summary>
public sealed record InlineSource(string LogicalKey, ReadOnlyMemory<byte> Content) : EntrySource(LogicalKey);

/// <summary>
/// An entry of an earlier revision: kept as it is, or (with <see cref="CopyData"/>, as a push does) its bytes copied
/// into the registry and hashed on the way.
/// </summary>
public sealed record ExistingEntrySource(ManifestEntry Entry, string? NewLogicalKey = null) : EntrySource(NewLogicalKey ?? Entry.LogicalKey)
{
    public bool CopyData { get; init; }
}

public static class EntrySources
{
    /// <summary>
    /// A file, or every file below a folder under <paramref name="logicalPrefix"/> ("" for the package root; a file keeps
    /// its own name below the prefix), as quilt3's set_dir takes a folder: what the folder's <c>.quiltignore</c> names is
    /// left out (see <see cref="QuiltIgnore"/>), a link to a file in the folder is followed (the entry reads, and its
    /// physical key is, the file it leads to), and a link to a folder is not descended into (Python's rglob does not).
    /// A link that leads out of the folder, nowhere, or round in a loop is refused, naming each: quilt3 would follow
    /// one out of the folder, but packaging a folder must not publish a file from elsewhere (a linked key) unseen.
    /// </summary>
    public static IReadOnlyList<LocalFileSource> FromLocalPath(string path, string logicalPrefix = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var prefix = NormalizePrefix(logicalPrefix);
        if (File.Exists(full))
        {
            if (new FileInfo(full).LinkTarget is not null)
                throw new PackageException($"'{path}' is a symbolic link; give the file it points to instead.");
            return [new LocalFileSource(prefix + Path.GetFileName(full), full)];
        }
        if (!Directory.Exists(full))
            throw new PackageException($"'{path}' does not exist. Give an existing file or folder.");

        // quilt3 resolves the folder first: rules match, and physical keys name, the real path.
        var root = LocalLinks.Resolve(full).Path ?? full;
        var ignore = QuiltIgnore.Load(root);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
            ReturnSpecialDirectories = false,
        };
        var found = new FileSystemEnumerable<(string Path, bool IsLink)>(root,
            (ref FileSystemEntry e) => (e.ToFullPath(), IsLink(ref e)),
            options)
        {
            // Real folders only: quilt3 goes into neither a link to a folder nor a folder its rules leave out.
            ShouldRecursePredicate = (ref FileSystemEntry e) => !IsLink(ref e) && ignore?.IgnoresDirectory(MatchPath(e.ToFullPath())) != true,
            ShouldIncludePredicate = (ref FileSystemEntry e) => IsLink(ref e) || !e.IsDirectory,
        };

        var results = new List<LocalFileSource>();
        var refused = new List<string>();
        foreach (var (entryPath, isLink) in found)
        {
            var key = prefix + LogicalPath(Path.GetRelativePath(root, entryPath));
            if (!isLink)
            {
                if (ignore?.IgnoresFile(MatchPath(entryPath)) != true)
                    results.Add(new LocalFileSource(key, entryPath));
                continue;
            }

            var link = LocalLinks.Resolve(entryPath);
            var isFile = link.Path is not null && File.Exists(link.Path);
            // quilt3 takes a link to a file for a file; anything else (a link to a folder, a dangling one) it matches as a folder.
            if (ignore is not null && (isFile ? ignore.IgnoresFile(MatchPath(entryPath)) : ignore.IgnoresDirectory(MatchPath(entryPath))))
                continue;
            if (link.Path is null)
                refused.Add($"'{LocalPaths.Display(key)}' -> '{LocalPaths.Display(link.Target)}' ({link.Problem})");
            else if (!LocalLinks.IsWithin(link.Path, root))
                refused.Add($"'{LocalPaths.Display(key)}' -> '{LocalPaths.Display(link.Path)}' ({(isFile ? "a file" : "a folder")} outside the folder)");
            else if (isFile)
                results.Add(new LocalFileSource(key, link.Path));
            // else: a link to a folder inside the folder, left out as quilt3 leaves it out.
        }
        if (refused.Count > 0)
            throw new SymbolicLinkRefusedException(path, refused);
        return results;
    }

    private static bool IsLink(ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) != 0;

    /// <summary>The path quilt3 matches rules against: absolute, '/'-separated.</summary>
    private static string MatchPath(string fullPath) =>
        LocalPaths.BackslashIsSeparator ? fullPath.Replace('\\', '/') : fullPath;

    /// <summary>
    /// A relative path as a logical key, as quilt3's set_dir makes it: folders joined by '/'. Only where '\\' separates
    /// folders (Windows) does it become '/'; elsewhere it is part of a file's name (a file 'back\\slash.txt').
    /// </summary>
    private static string LogicalPath(string relativePath) =>
        LocalPaths.BackslashIsSeparator ? relativePath.Replace('\\', '/') : relativePath;

    /// <summary>Every object below an S3 prefix (folder markers skipped), keyed by its path below the prefix.</summary>
    public static async Task<IReadOnlyList<StoreObjectSource>> FromStorePrefixAsync(
        IObjectStore store, string bucket, string prefix, string logicalPrefix = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var lp = NormalizePrefix(logicalPrefix);
        // The listing gives what a build needs to know (size, and the version it pins where objects have versions), so the
        // build looks up no object again; where a store lists no version ids the build looks each one up.
        var versioned = await store.IsVersionedAsync(bucket, cancellationToken).ConfigureAwait(false);
        var results = new List<StoreObjectSource>();
        string? token = null;
        do
        {
            var page = await store.ListAsync(new ListRequest(bucket, prefix, null, 1000, token) { WithVersionIds = versioned }, cancellationToken).ConfigureAwait(false);
            foreach (var obj in page.Objects)
            {
                if (obj.Key.EndsWith('/'))
                    continue;
                results.Add(new StoreObjectSource(lp + obj.Key[prefix.Length..].TrimStart('/'), store, new ObjectRef(bucket, obj.Key))
                {
                    Info = versioned && obj.VersionId is null ? null
                        : new ObjectInfo(bucket, obj.Key, obj.Size, obj.LastModified, obj.ETag, obj.VersionId, null, new Dictionary<string, string>()),
                });
            }
            token = page.NextContinuationToken;
        }
        while (token is not null);
        if (results.Count == 0)
            throw new PackageException($"Nothing found under s3://{bucket}/{prefix}. Check the prefix (list it to see what exists).");
        return results;
    }

    private static string NormalizePrefix(string? logicalPrefix)
    {
        var p = (logicalPrefix ?? "").Trim('/');
        if (p.Length == 0)
            return "";
        Names.ValidateLogicalKey(p);
        return p + "/";
    }
}
