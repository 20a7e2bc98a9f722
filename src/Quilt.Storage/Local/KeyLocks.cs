using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Quilt.Storage.Local;

/// <summary>
/// Serializes the final step of writes and deletes per key, across threads and processes sharing a root, so that
/// "put unless it exists" is atomic: check then rename under the lock. File.Move without overwrite cannot do it
/// on Unix (.NET checks whether the target exists, then renames, which lets two racing puts both win).
/// Locks are a fixed set of files held open with FileShare.None (flock on Unix), so they never pile up;
/// keys sharing a stripe only wait for each other's rename, which takes microseconds.
/// </summary>
internal sealed class KeyLocks(string lockFolder)
{
    private const int Stripes = 64;
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    public async Task<IDisposable> AcquireAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(bucket + "/" + key));
        var path = Path.Join(lockFolder, $"{BinaryPrimitives.ReadUInt32BigEndian(hash) % Stripes:x2}.lock");
        Directory.CreateDirectory(lockFolder);
        var started = DateTime.UtcNow;
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException e) when (e.GetType() == typeof(IOException))
            {
                // Held by another writer (a sharing violation is a plain IOException); it lets go within microseconds.
                if (DateTime.UtcNow - started > MaxWait)
                {
                    throw new StorageException(
                        $"Timed out after {MaxWait.TotalSeconds:0} s waiting for the write lock {path} ({e.Message}). " +
                        "If no other quilt process is writing to this folder, the lock file may be on a file system without " +
                        "locking; check the folder and try again.", e);
                }
                await Task.Delay(delay, cancellationToken);
                delay = Math.Min(delay * 2, 50);
            }
        }
    }
}
