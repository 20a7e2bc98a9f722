using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage.Local;

namespace Quilt.Packages;

/// <summary>
/// Writes package entries below a local folder at their logical keys, each verified against its recorded hash before
/// it appears (written to a temporary name, renamed into place only when the hash matches).
/// </summary>
public static class EntryDownloader
{
    public static async Task<IReadOnlyList<string>> DownloadAsync(
        ObjectLocator locator, IReadOnlyList<ManifestEntry> entries, string destinationRoot, IProgress<long>? progress = null,
        int concurrency = 8, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(locator);
        ArgumentNullException.ThrowIfNull(entries);
        var root = Path.GetFullPath(destinationRoot);
        // Every key is checked before anything is written: a key that cannot be a local path stops the whole download.
        foreach (var entry in entries)
            SafeDestination(root, entry.LogicalKey);
        Directory.CreateDirectory(root);
        var written = new string[entries.Count];
        await Parallel.ForAsync(0, entries.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            written[i] = await DownloadOneAsync(locator, entries[i], root, progress, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return written;
    }

    /// <summary>
    /// The path an entry lands at below <paramref name="root"/>; refuses keys or existing links that would leave it.
    /// quilt3 reads keys such as <c>/abs</c>, <c>a/../b</c>, <c>a//b</c> or a tab in a manifest; none of them is one safe
    /// file name below the folder, so they are refused here (by the local store's rules), naming the key.
    /// </summary>
    public static string SafeDestination(string root, string logicalKey)
    {
        ArgumentNullException.ThrowIfNull(logicalKey);
        if (LocalPaths.KeyProblem(logicalKey, forWrite: true) is { } problem)
        {
            throw new PackageException(
                $"Entry '{LocalPaths.Display(logicalKey)}' cannot be written below {root}: {problem}. Nothing was written. "
                + "Fetch the other entries by path, or rename this one in a new revision.");
        }
        var full = Path.GetFullPath(Path.Combine(root, logicalKey));
        if (!full.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new PackageException($"'{logicalKey}' would be written outside {root}; refusing.");
        // No component below the root may be a symbolic link: it could point anywhere.
        var current = root;
        foreach (var part in logicalKey.Split('/'))
        {
            current = Path.Combine(current, part);
            var info = new FileInfo(current);
            if (info.Exists || Directory.Exists(current))
            {
                if ((File.GetAttributes(current) & FileAttributes.ReparsePoint) != 0)
                    throw new PackageException($"'{current}' is a symbolic link; refusing to write through it.");
            }
        }
        return full;
    }

    private static async Task<string> DownloadOneAsync(ObjectLocator locator, ManifestEntry entry, string root, IProgress<long>? progress, CancellationToken ct)
    {
        var destination = SafeDestination(root, entry.LogicalKey);
        try
        {
            var file = await LocalDownload.ToFileAsync(token => locator.OpenReadAsync(entry.PhysicalKey, null, token), destination, entry.Size, entry,
                overwrite: true, progress, null, ct).ConfigureAwait(false);
            return file.Path;
        }
        catch (ObjectSizeMismatchException ex)
        {
            throw new PackageException($"'{entry.LogicalKey}': {ex.Message}", ex);
        }
    }
}
