using System.Security.Cryptography;
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
    /// Streams an object to a local file through a temporary file in the same folder, renamed into place at the end. With a
    /// package <paramref name="entry"/>, the bytes are hashed as its manifest records them on the way and renamed into
    /// place only when they match (an existing file stays as it was otherwise).
    /// </summary>
    public static async Task<(string Path, string Sha256)> DownloadAsync(IObjectStore store, ObjectRef obj, long size, string destination, bool overwrite,
        IProgress<ProgressUpdate>? progress, ManifestEntry? entry, CancellationToken cancellationToken)
    {
        var path = RequireAbsolute(destination, "destination");
        if (Directory.Exists(path))
            path = Path.Join(path, obj.Key[(obj.Key.LastIndexOf('/') + 1)..]);
        if (Directory.Exists(path))
            throw new OperationException($"destination '{path}' is a folder. Give a file path.");
        if (File.Exists(path) && !overwrite)
            throw new OperationException($"destination '{path}' already exists. Pass overwrite=true to replace it, or choose another path.");

        var folder = Path.GetDirectoryName(path)!;
        var temp = Path.Join(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        try
        {
            Directory.CreateDirectory(folder);
            var tracker = new TransferProgress(progress, size, "Downloaded");
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var entryHash = entry is null ? null : EntryVerification.NewHasher(entry, size);
            long written = 0;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var input = await store.OpenReadAsync(obj, null, cancellationToken))
            {
                var buffer = new byte[1 << 20];
                int n;
                while ((n = await input.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    if (written + n > size)
                        throw new OperationException($"{obj} changed while it was downloaded (more than the {size:N0} bytes expected). Nothing was saved; try again.");
                    hash.AppendData(buffer, 0, n);
                    entryHash?.Append(buffer.AsSpan(0, n));
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                    written += n;
                    tracker.Add(n);
                }
                await output.FlushAsync(cancellationToken);
            }
            if (written != size)
                throw new OperationException($"{obj} changed while it was downloaded ({written:N0} bytes read, {size:N0} expected). Nothing was saved; try again.");
            if (entry is not null)
                EntryVerification.Ensure(entry, written, entryHash!.Finish());
            File.Move(temp, path, overwrite);
            return (path, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            TryDelete(temp);
            if (e is IOException && File.Exists(path) && !overwrite)
                throw new OperationException($"destination '{path}' appeared while the object was downloaded. Pass overwrite=true to replace it.", e);
            throw new OperationException($"Could not write '{path}': {e.Message} Choose a destination you can write to.", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temporary name starts with '.' and ends in .partial, so a leftover is recognisable.
        }
    }
}
