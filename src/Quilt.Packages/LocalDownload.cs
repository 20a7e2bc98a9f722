using System.Security.Cryptography;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;

namespace Quilt.Packages;

/// <summary>A file <see cref="LocalDownload"/> put in place: its full path, size and SHA-256 (lower-case hex).</summary>
public sealed record DownloadedFile(string Path, long Size, string Sha256);

/// <summary>
/// The one way bytes from storage become a local file, so that a file appears whole or not at all: written to a
/// temporary name in the target folder, hashed while written (SHA-256, and a package entry's own hash type), and
/// renamed into place only when the size and hashes check out. On any failure or cancel the temporary file is removed
/// and a file already at the path is left as it was.
/// </summary>
public static class LocalDownload
{
    private const int BufferSize = 1 << 20;

    /// <param name="open">Opens the bytes to write (called once).</param>
    /// <param name="path">The full path of the file to write.</param>
    /// <param name="size">The bytes expected: more or fewer is an <see cref="ObjectSizeMismatchException"/>, and nothing is saved.</param>
    /// <param name="entry">With a package entry: the bytes must match the size and hash its manifest records (<see cref="EntryMismatchException"/>).</param>
    /// <param name="overwrite">Whether a file already at <paramref name="path"/> may be replaced; without it an <see cref="IOException"/> leaves that file alone.</param>
    /// <param name="progress">Bytes written, reported as each buffer is written (increments, not running totals).</param>
    /// <param name="subject">What is downloaded, for messages (an object URI, an entry's key).</param>
    public static async Task<DownloadedFile> ToFileAsync(Func<CancellationToken, Task<Stream>> open, string path, long size, ManifestEntry? entry, bool overwrite,
        IProgress<long>? progress, string? subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        // Hidden and recognisable, in the target folder so that the final rename stays on one file system.
        var temp = Path.Join(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        try
        {
            Directory.CreateDirectory(folder);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var entryHash = entry is null ? null : EntryVerification.NewHasher(entry, size);
            long written = 0;
            var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (output.ConfigureAwait(false))
            {
                var input = await open(cancellationToken).ConfigureAwait(false);
                await using (input.ConfigureAwait(false))
                {
                    var buffer = new byte[BufferSize];
                    int n;
                    while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        if (written + n > size)
                            throw new ObjectSizeMismatchException(size, written + n, subject);
                        sha256.AppendData(buffer, 0, n);
                        entryHash?.Append(buffer.AsSpan(0, n));
                        await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                        written += n;
                        progress?.Report(n);
                    }
                }
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            if (written != size)
                throw new ObjectSizeMismatchException(size, written, subject);
            if (entry is not null)
                EntryVerification.Ensure(entry, written, entryHash!.Finish());
            File.Move(temp, full, overwrite);
            return new DownloadedFile(full, written, Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }
        finally
        {
            TryDelete(temp);
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
