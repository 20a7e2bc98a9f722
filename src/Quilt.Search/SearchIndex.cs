using System.Text.Json;

namespace Quilt.Search;

/// <summary>One entry of a package revision, as indexed.</summary>
/// <param name="Meta">The entry's whole metadata (quilt3's <c>_meta</c>: <c>user_meta</c> inside), or null.</param>
public sealed record EntryDocument(string LogicalKey, string PhysicalKey, long Size, string? Hash, JsonElement? Meta);

/// <summary>One package revision, as indexed: what its manifest says, and whether the <c>latest</c> pointer names it.</summary>
/// <param name="Pointer">The timestamp pointer file naming this revision (<c>1700000000</c>).</param>
/// <param name="Modified">The time of that pointer.</param>
/// <param name="UserMeta">The package metadata (<c>user_meta</c>), or null.</param>
/// <param name="Workflow">The manifest's workflow record, or null.</param>
public sealed record PackageRevisionDocument(
    string Bucket,
    string Name,
    string Hash,
    string Pointer,
    DateTimeOffset Modified,
    bool IsLatest,
    string? Comment,
    JsonElement? UserMeta,
    JsonElement? Workflow,
    long Size,
    IReadOnlyList<EntryDocument> Entries);

/// <summary>One object, as indexed.</summary>
/// <param name="Version">The S3 version id, or null where the store has none.</param>
/// <param name="Text">The start of the object's text (at most 64 KiB) for a small text-like object, else null.</param>
public sealed record ObjectDocument(
    string Bucket,
    string Key,
    string? Version,
    long Size,
    DateTimeOffset Modified,
    string? ETag,
    bool Deleted,
    string? Text);

/// <summary>
/// An index the searches run over (SQLite FTS5 embedded; PostgreSQL full-text in a shared gateway). Writes are
/// idempotent (the same document twice is one document), each call atomic. Queries see only <see cref="SearchScope"/>.
/// </summary>
public interface ISearchIndex : IAsyncDisposable
{
    /// <summary>Adds or replaces package revisions (by bucket, name and hash).</summary>
    Task UpsertPackageRevisionsAsync(IReadOnlyList<PackageRevisionDocument> revisions, CancellationToken cancellationToken);

    /// <summary>Marks which revision (by top hash) is a package's latest; null when the package is gone.</summary>
    Task SetLatestAsync(string bucket, string name, string? hash, CancellationToken cancellationToken);

    /// <summary>Removes package revisions (by bucket, name and hash).</summary>
    Task RemovePackageRevisionsAsync(string bucket, string name, IReadOnlyList<string> hashes, CancellationToken cancellationToken);

    /// <summary>Adds or replaces objects (by bucket and key).</summary>
    Task UpsertObjectsAsync(IReadOnlyList<ObjectDocument> objects, CancellationToken cancellationToken);

    /// <summary>Removes objects (by bucket and key).</summary>
    Task RemoveObjectsAsync(string bucket, IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a package search itself refuses a metadata predicate of a type its field never has in scope (a
    /// <see cref="SearchQueryException"/> naming the filter); false: the caller checks, if it wants the refusal.
    /// </summary>
    bool RefusesMistypedPredicates => false;

    /// <summary>Searches package revisions the scope may see.</summary>
    Task<PackageSearchResults> SearchPackagesAsync(PackageSearchRequest request, SearchScope scope, CancellationToken cancellationToken);

    /// <summary>The next page of a package search, for a cursor it gave; the scope must be the one it ran with.</summary>
    Task<SearchPage<PackageHit>> MorePackagesAsync(string cursor, int size, SearchScope scope, CancellationToken cancellationToken);

    /// <summary>Searches objects the scope may see.</summary>
    Task<ObjectSearchResults> SearchObjectsAsync(ObjectSearchRequest request, SearchScope scope, CancellationToken cancellationToken);

    /// <summary>The next page of an object search, for a cursor it gave; the scope must be the one it ran with.</summary>
    Task<SearchPage<ObjectHit>> MoreObjectsAsync(string cursor, int size, SearchScope scope, CancellationToken cancellationToken);
}
