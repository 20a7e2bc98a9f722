using System.Buffers.Text;
using System.IO.Enumeration;
using System.Text;
using Quilt.Core.Json;

namespace Quilt.Storage.Local;

/// <summary>
/// ListObjectsV2 over a bucket folder. Walks only what the request can return: it starts in the deepest folder
/// the prefix names, reads one folder level when the delimiter is "/", skips folders wholly before the
/// continuation token, and stops one item after the page is full. Each folder's entries are sorted by name,
/// a folder's name ranking as name + "/", which yields keys in S3's order (see <see cref="CodePointComparer"/>).
/// Symbolic links and names no key could have are not objects here and never show.
/// </summary>
internal sealed class LocalListing
{
    public const int MaxPageSize = 1000;

    private static readonly EnumerationOptions EnumerationOptions = new()
    {
        AttributesToSkip = 0, // names starting with '.' (such as .quilt/) are keys like any other
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private readonly string _prefix;
    private readonly ListToken? _after;
    private readonly CancellationToken _cancellationToken;

    private LocalListing(string prefix, ListToken? after, CancellationToken cancellationToken)
    {
        _prefix = prefix;
        _after = after;
        _cancellationToken = cancellationToken;
    }

    public static ObjectListing List(string bucketDirectory, ListRequest request, CancellationToken cancellationToken)
    {
        if (request.PageSize < 1)
            throw new StorageException($"PageSize must be at least 1 (it was {request.PageSize}); S3 returns at most {MaxPageSize} keys per page.");
        var pageSize = Math.Min(request.PageSize, MaxPageSize);
        var prefix = request.Prefix ?? "";
        var delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : request.Delimiter;
        var listing = new LocalListing(prefix, ListToken.Decode(request.ContinuationToken), cancellationToken);

        var folderKey = prefix[..(prefix.LastIndexOf('/') + 1)];
        var namePrefix = prefix[folderKey.Length..];
        var folder = FindFolder(bucketDirectory, folderKey);
        IEnumerable<Item> items = folder is null ? []
            : delimiter == "/" ? listing.OneLevel(folder, folderKey, namePrefix)
            : delimiter is null ? listing.Keys(folder, folderKey, namePrefix)
            : listing.Fold(listing.Keys(folder, folderKey, namePrefix), delimiter);

        var objects = new List<ObjectSummary>();
        var commonPrefixes = new List<string>();
        Item? last = null;
        var more = false;
        foreach (var item in items)
        {
            if (objects.Count + commonPrefixes.Count == pageSize)
            {
                more = true;
                break;
            }
            if (item.IsPrefix)
            {
                commonPrefixes.Add(item.Key);
            }
            else
            {
                objects.Add(new ObjectSummary(item.Key, item.File!.Length, LocalFolderStore.LastModifiedOf(item.File), LocalFolderStore.ETagOf(item.File)));
            }
            last = item;
        }
        var next = more && last is { } l ? new ListToken(l.Key, l.IsPrefix).Encode() : null;
        return new ObjectListing(objects, commonPrefixes, next);
    }

    /// <summary>The folder a key prefix ending in '/' names, or null when it does not exist as a real folder.</summary>
    private static string? FindFolder(string bucketDirectory, string folderKey)
    {
        var folder = bucketDirectory;
        foreach (var segment in folderKey.Split('/', StringSplitOptions.None)[..^1])
        {
            if (LocalPaths.SegmentProblem(segment) is not null)
                return null; // no key can have this prefix
            folder = Path.Join(folder, segment);
            var attributes = new DirectoryInfo(folder).Attributes;
            if ((int)attributes == -1 || !attributes.HasFlag(FileAttributes.Directory) || attributes.HasFlag(FileAttributes.ReparsePoint))
                return null;
        }
        return folder;
    }

    /// <summary>Every object key under a folder, in order, after the token.</summary>
    private IEnumerable<Item> Keys(string folder, string folderKey, string namePrefix)
    {
        foreach (var entry in OrderedEntries(folder, folderKey, namePrefix))
        {
            if (!entry.IsDirectory)
            {
                if (RegularFile(entry.Path) is { } file)
                    yield return new Item(entry.Key, false, file);
            }
            else if (IsRealDirectory(entry.Path))
            {
                foreach (var item in Keys(entry.Path, entry.Key, ""))
                    yield return item;
            }
        }
    }

    /// <summary>Delimiter "/": the objects of one folder and its subfolders as common prefixes.</summary>
    private IEnumerable<Item> OneLevel(string folder, string folderKey, string namePrefix)
    {
        foreach (var entry in OrderedEntries(folder, folderKey, namePrefix))
        {
            if (!entry.IsDirectory)
            {
                if (RegularFile(entry.Path) is { } file)
                    yield return new Item(entry.Key, false, file);
            }
            else if (IsAfterToken(entry.Key) && IsRealDirectory(entry.Path) && HasObject(entry.Path))
            {
                yield return new Item(entry.Key, true, null); // S3 has no empty folders, so neither does a listing
            }
        }
    }

    /// <summary>Any other delimiter: keys with the delimiter after the prefix fold into one common prefix each.</summary>
    private IEnumerable<Item> Fold(IEnumerable<Item> keys, string delimiter)
    {
        string? lastPrefix = null;
        foreach (var item in keys)
        {
            var at = item.Key.IndexOf(delimiter, _prefix.Length, StringComparison.Ordinal);
            if (at < 0)
            {
                yield return item;
                continue;
            }
            // Keys sharing a common prefix are adjacent in key order, so one look back is enough.
            var commonPrefix = item.Key[..(at + delimiter.Length)];
            if (commonPrefix != lastPrefix)
            {
                lastPrefix = commonPrefix;
                yield return new Item(commonPrefix, true, null);
            }
        }
    }

    /// <summary>
    /// A folder's entries that can hold results, in key order; files and folders wholly before the token are dropped.
    /// A heap rather than a sort: a page takes the first thousand entries of a folder that may hold a hundred thousand.
    /// </summary>
    private IEnumerable<Entry> OrderedEntries(string folder, string folderKey, string namePrefix)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        var entries = new List<(Entry, string)>();
        foreach (var (name, isDirectory) in Enumerate(folder, namePrefix))
        {
            if (LocalPaths.SegmentProblem(name) is not null)
                continue;
            // A folder ranks as its name + '/', the start of all its keys: "a/b" comes after "a.txt" ('/' > '.').
            var key = isDirectory ? folderKey + name + "/" : folderKey + name;
            if (isDirectory ? CanHoldKeysAfterToken(key) : IsAfterToken(key))
                entries.Add((new Entry(key, Path.Join(folder, name), isDirectory), key));
        }
        var heap = new PriorityQueue<Entry, string>(entries, CodePointComparer.Instance);
        while (heap.TryDequeue(out var entry, out _))
            yield return entry;
    }

    /// <summary>
    /// Names in a folder. Links are not filtered here: telling them apart costs a stat per entry, so that is done
    /// only for the entries a page actually uses (<see cref="RegularFile"/>, <see cref="IsRealDirectory"/>).
    /// </summary>
    private static List<(string Name, bool IsDirectory)> Enumerate(string folder, string namePrefix)
    {
        try
        {
            return [.. new FileSystemEnumerable<(string, bool)>(folder, static (ref entry) => (entry.FileName.ToString(), entry.IsDirectory), EnumerationOptions)
            {
                ShouldIncludePredicate = (ref entry) => entry.FileName.StartsWith(namePrefix, StringComparison.Ordinal),
            }];
        }
        catch (DirectoryNotFoundException)
        {
            return []; // removed while we listed (a delete prunes empty folders)
        }
    }

    /// <summary>The file if it is a real file (not a link, and not deleted while we listed), else null.</summary>
    private static FileInfo? RegularFile(string path)
    {
        var file = new FileInfo(path);
        var attributes = file.Attributes; // lstat
        return (int)attributes != -1 && (attributes & (FileAttributes.ReparsePoint | FileAttributes.Directory)) == 0 ? file : null;
    }

    private static bool IsRealDirectory(string path)
    {
        var attributes = new DirectoryInfo(path).Attributes;
        return (int)attributes != -1 && attributes.HasFlag(FileAttributes.Directory) && !attributes.HasFlag(FileAttributes.ReparsePoint);
    }

    private bool IsAfterToken(string key) =>
        _after is not { } after
        || (CodePointComparer.Compare(key, after.Key) > 0 && !(after.IsPrefix && key.StartsWith(after.Key, StringComparison.Ordinal)));

    /// <summary>Whether a folder (its key ends in '/') may hold keys after the token; all its keys start with its key.</summary>
    private bool CanHoldKeysAfterToken(string folderKey)
    {
        if (_after is not { } after)
            return true;
        if (after.IsPrefix && folderKey.StartsWith(after.Key, StringComparison.Ordinal))
            return false;
        return after.Key.StartsWith(folderKey, StringComparison.Ordinal) || CodePointComparer.Compare(folderKey, after.Key) > 0;
    }

    private bool HasObject(string folder)
    {
        var folders = new Stack<string>();
        folders.Push(folder);
        while (folders.TryPop(out var current))
        {
            _cancellationToken.ThrowIfCancellationRequested();
            foreach (var (name, isDirectory) in Enumerate(current, ""))
            {
                if (LocalPaths.SegmentProblem(name) is not null)
                    continue;
                var path = Path.Join(current, name);
                if (!isDirectory && RegularFile(path) is not null)
                    return true;
                if (isDirectory && IsRealDirectory(path))
                    folders.Push(path);
            }
        }
        return false;
    }

    private readonly record struct Item(string Key, bool IsPrefix, FileInfo? File);

    private readonly record struct Entry(string Key, string Path, bool IsDirectory);

    /// <summary>Where the next page starts: after this key, or after every key under this common prefix.</summary>
    private sealed record ListToken(string Key, bool IsPrefix)
    {
        private const string Version = "1";

        public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Version + (IsPrefix ? "p" : "k") + Key));

        public static ListToken? Decode(string? token)
        {
            if (string.IsNullOrEmpty(token))
                return null;
            try
            {
                var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token));
                if (text.Length >= 2 && text.StartsWith(Version, StringComparison.Ordinal) && text[1] is 'p' or 'k')
                    return new ListToken(text[2..], text[1] == 'p');
            }
            catch (Exception e) when (e is FormatException or DecoderFallbackException)
            {
            }
            throw new StorageException(
                "The continuation token is not one this local folder store issued. Start the listing again without a token.");
        }
    }
}
