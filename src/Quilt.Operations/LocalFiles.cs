using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>Local files the tools read from or write to: absolute paths only, and downloads appear whole or not at all.</summary>
public static class LocalFiles
{
    public static void EnsureAllowed(OperationSettings settings, string argument)
    {
        if (!settings.LocalFilesAllowed)
        {
            throw new OperationException($"{argument}: this server accepts remote clients (--allow-remote), so it does not read or write files on its own machine. "
                + "Send content inline (text or base64) and get it back inline or through bucket_object_link.");
        }
    }

    public static string RequireAbsolute(string path, string argument)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            throw new OperationException($"{argument} '{path}' is not an absolute path. Give a full path such as /home/me/data/file.csv "
                + "(relative paths would depend on the server's working folder).");
        }
        return Path.GetFullPath(path);
    }

    /// <summary>
    /// Refuses a full local path outside every folder <paramref name="roots"/> allows. Links are followed first (in the path's
    /// folders too), so a link inside a root cannot lead out of it.
    /// </summary>
    public static async Task EnsureUnderRootsAsync(ILocalRoots? roots, string fullPath, string argument, CancellationToken cancellationToken)
    {
        if (roots is null || await roots.GetAsync(cancellationToken) is not { } allowed)
            return;
        var real = RealPath(fullPath);
        if (allowed.Any(root => IsUnder(real, RealPath(Path.GetFullPath(root)))))
            return;
        throw new OperationException(allowed.Count == 0
            ? $"{argument} '{fullPath}': the client shares no folders with this server (its roots list is empty), so no local file may be read or written. "
                + "Add a root in the client, or send the content inline."
            : $"{argument} '{fullPath}' is outside the folders the client shares with this server (its roots): {string.Join(", ", allowed)}. "
                + "Use a path under one of them, or add a root in the client.");
    }

    private static bool IsUnder(string path, string root)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        root = Path.TrimEndingDirectorySeparator(root);
        return path.Equals(root, comparison)
            || (path.StartsWith(root, comparison) && (path[root.Length] == Path.DirectorySeparatorChar || root.EndsWith(Path.DirectorySeparatorChar)));
    }

    /// <summary>The full path with every link along it resolved (as far as the path exists).</summary>
    private static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "";
        var current = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Join(current, part);
            try
            {
                FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
                if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                    current = Path.GetFullPath(target.FullName);
            }
            catch (IOException)
            {
                // A link that cannot be followed stays as written: the check then applies to the path as given.
            }
        }
        return current.Length == 0 ? fullPath : current;
    }

    /// <summary>A readable local file for upload: its full path and length.</summary>
    public static FileInfo RequireFile(string path, string argument)
    {
        var full = RequireAbsolute(path, argument);
        var file = new FileInfo(full);
        if (!file.Exists)
        {
            throw new OperationException(Directory.Exists(full)
                ? $"{argument} '{full}' is a folder; give one file (call once per file, or list several objects)."
                : $"{argument} '{full}' does not exist. Check the path.");
        }
        return file;
    }

    /// <summary>
    /// Streams an object to a local file through <see cref="LocalDownload"/> (whole or not at all). With a package
    /// <paramref name="entry"/>, the bytes are hashed as its manifest records them on the way and renamed into place only
    /// when they match (an existing file stays as it was otherwise).
    /// </summary>
    public static async Task<DownloadedFile> DownloadAsync(IObjectStore store, ObjectRef obj, long size, string destination, bool overwrite,
        IProgress<ProgressUpdate>? progress, ManifestEntry? entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(obj);
        var path = RequireAbsolute(destination, "destination");
        if (Directory.Exists(path))
            path = Path.Join(path, obj.Key[(obj.Key.LastIndexOf('/') + 1)..]);
        if (Directory.Exists(path))
            throw new OperationException($"destination '{path}' is a folder. Give a file path.");
        if (File.Exists(path) && !overwrite)
            throw new OperationException($"destination '{path}' already exists. Pass overwrite=true to replace it, or choose another path.");
        try
        {
            return await LocalDownload.ToFileAsync(token => store.OpenReadAsync(obj, null, token), path, size, entry, overwrite,
                new TransferProgress(progress, size, "Downloaded").Increments, obj.ToString(), cancellationToken);
        }
        catch (ObjectSizeMismatchException e)
        {
            var found = e.ActualSize > size ? $"more than the {size:N0} bytes expected" : $"{e.ActualSize:N0} bytes read, {size:N0} expected";
            throw new OperationException($"{obj} changed while it was downloaded ({found}). Nothing was saved; try again.", e);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            if (e is IOException && File.Exists(path) && !overwrite)
                throw new OperationException($"destination '{path}' appeared while the object was downloaded. Pass overwrite=true to replace it.", e);
            throw new OperationException($"Could not write '{path}': {e.Message} Choose a destination you can write to.", e);
        }
    }
}
