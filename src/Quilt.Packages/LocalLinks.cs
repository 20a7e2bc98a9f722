namespace Quilt.Packages;

/// <summary>Where a local path really leads once every symbolic link on the way is followed (as realpath does).</summary>
internal static class LocalLinks
{
    // Linux gives up after 40 links (ELOOP); so do we, which also ends a loop.
    private const int MaxLinks = 40;

    /// <summary>
    /// The real path of an existing file or folder (<see cref="ResolvedPath.Path"/>), or null with the link's own target
    /// and why it leads nowhere.
    /// </summary>
    public static ResolvedPath Resolve(string absolutePath)
    {
        var full = Path.GetFullPath(absolutePath);
        var firstTarget = new FileInfo(full).LinkTarget;
        var root = Path.GetPathRoot(full) ?? "/";
        var pending = new List<string>(Split(full[root.Length..]));
        pending.Reverse(); // a stack: the next part on top
        var resolved = root;
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (part is "" or ".")
                continue;
            if (part == "..")
            {
                resolved = Path.GetDirectoryName(resolved) ?? resolved;
                continue;
            }
            var candidate = Path.Join(resolved, part);
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (IOException)
            {
                target = null;
            }
            if (target is null)
            {
                if (!Path.Exists(candidate))
                    return new ResolvedPath(null, firstTarget ?? full, "it leads to nothing: the target does not exist");
                resolved = candidate;
                continue;
            }
            if (++links > MaxLinks)
                return new ResolvedPath(null, firstTarget ?? full, "it leads round in a loop of links");
            var targetRoot = Path.GetPathRoot(target);
            if (!string.IsNullOrEmpty(targetRoot))
            {
                resolved = targetRoot;
                target = target[targetRoot.Length..];
            }
            var parts = Split(target);
            for (var i = parts.Length - 1; i >= 0; i--)
                pending.Add(parts[i]);
        }
        return new ResolvedPath(resolved, firstTarget ?? full, null);
    }

    /// <summary>Whether a real path is <paramref name="folder"/> itself or below it (both real paths).</summary>
    public static bool IsWithin(string path, string folder)
    {
        var f = Path.TrimEndingDirectorySeparator(folder);
        var below = Path.EndsInDirectorySeparator(f) ? f : f + Path.DirectorySeparatorChar; // "/" stays "/"
        return path == f || path.StartsWith(below, StringComparison.Ordinal);
    }

    private static string[] Split(string path) =>
        path.Split(LocalPathSeparators, StringSplitOptions.None);

    private static readonly char[] LocalPathSeparators =
        Path.DirectorySeparatorChar == Path.AltDirectorySeparatorChar ? [Path.DirectorySeparatorChar] : [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];
}

/// <summary>A path's real path, or (when <see cref="Path"/> is null) why there is none; <see cref="Target"/> is what the link itself names.</summary>
internal readonly record struct ResolvedPath(string? Path, string Target, string? Problem);
