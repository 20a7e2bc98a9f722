using System.Security.Cryptography;
using System.Text;
using Quilt.Core.Hashing;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Tables;

/// <summary>A file in the table cache: where it is, its size, and whether it was there already.</summary>
public sealed record CachedFile(string Path, long Size, bool Hit);

/// <summary>
/// Local copies of the objects and package entries tables are read from, content-addressed: a package entry by the
/// hash its manifest records, a plain object by its bucket, key and version (or ETag). A copy is written by
/// <see cref="LocalDownload"/> (to a temporary name, hashed and size-checked while written, an entry against its
/// manifest, then renamed into place), so a file under its final name is always whole and right, whichever of two
/// processes filling the same key wins. The cache is bounded: after a fill, the least recently used files go.
/// </summary>
public sealed class TableCache
{
    private const string PartialSuffix = ".partial";
    private readonly Lock _evicting = new();

    public TableCache(string folder, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        Folder = Path.GetFullPath(folder);
        MaxBytes = maxBytes;
    }

    public string Folder { get; }

    public long MaxBytes { get; }

    /// <summary>
    /// The cached copy of <paramref name="source"/> (fetched through <paramref name="store"/> when it is not cached yet),
    /// with <paramref name="extension"/> so that DuckDB knows its format. <paramref name="table"/> names it in messages.
    /// </summary>
    public async Task<CachedFile> GetAsync(IObjectStore store, ObjectSource source, string extension, string table, IProgress<ProgressUpdate>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(source);
        long size;
        string name;
        ObjectRef read;
        if (source.Entry is { } entry)
        {
            // Content-addressed by the manifest's hash: the same bytes under any package, revision or key share one copy.
            size = entry.Size;
            name = "entry-" + Digest($"{entry.Hash.Type}\n{entry.Hash.Value}\n{entry.Size}");
            read = source.Object;
        }
        else
        {
            var info = await store.HeadAsync(source.Object, cancellationToken).ConfigureAwait(false);
            size = info.Size;
            var version = info.VersionId is { Length: > 0 } v && v != "null" ? "v:" + v
                : info.ETag is { Length: > 0 } etag ? "e:" + etag
                : $"t:{info.LastModified.UtcTicks}";
            name = "object-" + Digest($"{store.Scheme}\n{info.Bucket}\n{info.Key}\n{version}\n{info.Size}");
            // The version read is the one looked up, even if the object is replaced meanwhile.
            read = source.Object.VersionId is null && version.StartsWith("v:", StringComparison.Ordinal) ? source.Object with { VersionId = version[2..] } : source.Object;
        }
        if (size > MaxBytes)
        {
            throw new OperationException($"table '{table}': {source.Object} is {size:N0} bytes, more than the table cache holds ({MaxBytes:N0} bytes; "
                + $"set {TableSettings.CacheBytesVariable} to allow more). Query a smaller file, or a glob of smaller parts.");
        }
        var path = Path.Join(Folder, name + extension);
        if (Touch(path, size))
            return new CachedFile(path, size, Hit: true);

        Directory.CreateDirectory(Folder);
        try
        {
            var file = await LocalDownload.ToFileAsync(token => store.OpenReadAsync(read, null, token), path, size, source.Entry, overwrite: true,
                new TransferProgress(progress, size, $"Fetched {table}").Increments, read.ToString(), cancellationToken).ConfigureAwait(false);
            Evict(keep: path);
            return new CachedFile(file.Path, file.Size, Hit: false);
        }
        catch (ObjectSizeMismatchException e)
        {
            throw new OperationException($"table '{table}': {read} changed while it was fetched ({e.Message}). Nothing was cached; try again.", e);
        }
        catch (EntryMismatchException e)
        {
            throw new OperationException($"table '{table}': {e.Message} The entry's bytes do not match its manifest, so it was not read.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperationException($"table '{table}': could not write the table cache at {Folder} ({e.Message}). "
                + $"Free space, or point {TableSettings.CacheFolderVariable} at a folder you can write to.", e);
        }
    }

    /// <summary>Whether a whole copy is there; if so, marks it used now (the LRU order).</summary>
    private static bool Touch(string path, long size)
    {
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists || file.Length != size)
                return false;
            file.LastAccessTimeUtc = DateTime.UtcNow;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Evicted by another process between the look and the touch: fetch it again.
            return false;
        }
    }

    /// <summary>
    /// Deletes the least recently used files until the cache is within its bound (never <paramref name="keep"/>), and
    /// temporary files a crashed fill left behind. Another process's open copy stays readable (the name goes, not the file).
    /// </summary>
    internal void Evict(string? keep = null)
    {
        lock (_evicting)
        {
            List<FileInfo> files;
            try
            {
                files = new DirectoryInfo(Folder).EnumerateFiles().ToList();
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            var stale = DateTime.UtcNow - TimeSpan.FromDays(1);
            var kept = new List<FileInfo>();
            foreach (var file in files)
            {
                if (file.Name.EndsWith(PartialSuffix, StringComparison.Ordinal))
                {
                    if (file.LastWriteTimeUtc < stale)
                        TryDelete(file);
                    continue;
                }
                kept.Add(file);
            }
            var total = kept.Sum(f => f.Length);
            foreach (var file in kept.OrderBy(f => f.LastAccessTimeUtc))
            {
                if (total <= MaxBytes)
                    break;
                if (string.Equals(file.FullName, keep, StringComparison.Ordinal))
                    continue;
                var length = file.Length;
                if (TryDelete(file))
                    total -= length;
            }
        }
    }

    private static bool TryDelete(FileInfo file)
    {
        try
        {
            file.Delete();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
