using System.Security.Cryptography;
using System.Text;
using Quilt.Core.Hashing;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Tables;

/// <summary>
/// A file in the table cache: where it is, its size, and whether it was there already. While it is not disposed it
/// holds a shared lock on the file, so no cache (in this process or another) evicts it from under the call reading it.
/// </summary>
public sealed class CachedFile : IDisposable
{
    private readonly FileStream _lease;

    internal CachedFile(string path, long size, bool hit, FileStream lease) => (Path, Size, Hit, _lease) = (path, size, hit, lease);

    public string Path { get; }

    public long Size { get; }

    public bool Hit { get; }

    public void Dispose() => _lease.Dispose();
}

/// <summary>
/// Local copies of the objects and package entries tables are read from, content-addressed: a package entry by the
/// hash its manifest records, a plain object by its bucket, key and version (or ETag). A copy is written by
/// <see cref="LocalDownload"/> (to a temporary name, hashed and size-checked while written, an entry against its
/// manifest), then moved into place, so a file under its final name is always whole and right.
/// <para>
/// Several processes may share the folder. They agree through advisory file locks (flock, which .NET's
/// <see cref="FileShare"/> modes take on Unix and the kernel drops when a process dies): a call holds a shared lock on
/// each copy it reads (<see cref="CachedFile"/>), and eviction deletes only a copy it can lock exclusively, so a copy in
/// use is never evicted. A fill first reserves its size (a sparse <c>.reserve</c> file of that length, locked while the
/// fill runs), so every process counts fills in flight against the bound; a fill that finds no room waits while another
/// fill is in flight, so the cache exceeds its bound by at most one entry in flight (beyond copies in use, which cannot go).
/// The short steps that look at or change the folder (hit check, reservation, move into place, eviction) run under one
/// exclusive lock on <c>.lock</c>; downloads and queries never hold it.
/// </para>
/// </summary>
public sealed class TableCache
{
    private const string PartialSuffix = ".partial";
    internal const string FillSuffix = ".fill";
    private const string SniffSuffix = ".sniff";
    private const string ReserveSuffix = ".reserve";
    private const string LockName = ".lock";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RoomPoll = TimeSpan.FromMilliseconds(100);

    public TableCache(string folder, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        Folder = Path.GetFullPath(folder);
        MaxBytes = maxBytes;
    }

    public string Folder { get; }

    public long MaxBytes { get; }

    /// <summary>Where the stored CSV sniff of the copy at <paramref name="copy"/> lives (<see cref="CsvSniff"/>): hidden, beside it, gone with it.</summary>
    internal static string SniffPath(string copy) => Path.Join(Path.GetDirectoryName(copy), "." + Path.GetFileName(copy) + SniffSuffix);

    /// <summary>
    /// The cached copy of <paramref name="source"/> (fetched through <paramref name="store"/> when it is not cached yet),
    /// with <paramref name="extension"/> so that DuckDB knows its format. <paramref name="table"/> names it in messages.
    /// Dispose the result when the call that reads it is done.
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
        try
        {
            Directory.CreateDirectory(Folder);
            var reservation = await HitOrReserveAsync(path, size, cancellationToken).ConfigureAwait(false);
            if (reservation.Hit is { } hit)
                return hit;
            using var reserved = reservation.Reserved!;
            var staging = Path.Join(Folder, $".{name}{extension}.{Guid.NewGuid():N}{FillSuffix}");
            try
            {
                await LocalDownload.ToFileAsync(token => store.OpenReadAsync(read, null, token), staging, size, source.Entry, overwrite: false,
                    new TransferProgress(progress, size, $"Fetched {table}").Increments, read.ToString(), cancellationToken).ConfigureAwait(false);
                return await PlaceAsync(staging, path, size, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                TryDelete(new FileInfo(staging));
            }
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

    private sealed record Reservation(CachedFile? Hit, FileStream? Reserved);

    /// <summary>
    /// A leased hit, or a reservation of <paramref name="size"/> bytes once the bound has room for them (evicting unused
    /// copies), or once no other fill is in flight (then this fill is the one entry over the bound).
    /// </summary>
    private async Task<Reservation> HitOrReserveAsync(string path, long size, CancellationToken cancellationToken)
    {
        while (true)
        {
            using (await LockFolderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (TryLease(path, size, hit: true) is { } hit)
                    return new Reservation(hit, null);
                var (total, fillsInFlight) = Evict(room: size);
                if (total + size <= MaxBytes || fillsInFlight == 0)
                    return new Reservation(null, Reserve(Path.Join(Folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}{ReserveSuffix}"), size));
            }
            await Task.Delay(RoomPoll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Moves a verified fill into place (unless another fill got there first: the bytes are the same) and leases it.</summary>
    private async Task<CachedFile> PlaceAsync(string staging, string path, long size, CancellationToken cancellationToken)
    {
        using (await LockFolderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (TryLease(path, size, hit: false) is { } placed)
                return placed;
            File.Move(staging, path, overwrite: true);
            var lease = TryLease(path, size, hit: false) ?? throw new IOException($"{path} disappeared as it was moved into place.");
            // The reservation goes with the caller's using; this fill's bytes now count as a copy (in use, so it stays).
            return lease;
        }
    }

    /// <summary>
    /// The exclusive lock on the folder's <c>.lock</c> file, for the short steps that look at or change the folder.
    /// Another process's steps take milliseconds, so a busy lock is tried again until <see cref="LockTimeout"/>.
    /// </summary>
    private async Task<FileStream> LockFolderAsync(CancellationToken cancellationToken)
    {
        var path = Path.Join(Folder, LockName);
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A shared lock on a whole copy at <paramref name="path"/> (marking it used now, the LRU order), or null when there
    /// is none. Called under the folder lock, so eviction cannot delete it between the look and the lock.
    /// </summary>
    private static CachedFile? TryLease(string path, long size, bool hit)
    {
        FileStream? lease = null;
        try
        {
            // Read-only with sharing: .NET takes a shared flock, which an evicting process's exclusive one cannot get past.
            lease = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (lease.Length != size)
            {
                lease.Dispose();
                return null;
            }
            File.SetLastAccessTimeUtc(path, DateTime.UtcNow);
            return new CachedFile(path, size, hit, lease);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lease?.Dispose();
            return null;
        }
    }

    /// <summary>A sparse file whose length is the fill's size, held with a shared lock while the fill runs.</summary>
    private static FileStream Reserve(string path, long size)
    {
        using (var create = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
            create.SetLength(size);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.DeleteOnClose);
    }

    /// <summary>
    /// Deletes the least recently used copies no call is reading until the copies and the fills in flight, plus
    /// <paramref name="room"/>, fit the bound; removes reservations whose process is gone and leftovers of crashed fills
    /// older than a day. Runs under the folder lock. Returns the bytes then counted and how many fills are in flight.
    /// </summary>
    internal (long Total, int FillsInFlight) Evict(long room = 0)
    {
        List<FileInfo> files;
        try
        {
            files = new DirectoryInfo(Folder).EnumerateFiles().ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return (0, 0);
        }
        var stale = DateTime.UtcNow - TimeSpan.FromDays(1);
        var copies = new List<FileInfo>();
        var names = files.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        long total = 0;
        var fills = 0;
        foreach (var file in files)
        {
            if (!file.Name.StartsWith('.'))
            {
                copies.Add(file);
                total += file.Length;
            }
            else if (file.Name.EndsWith(SniffSuffix, StringComparison.Ordinal))
            {
                // A stored sniff whose copy went (evicted by a process that did not know of sniffs, or deleted by hand).
                if (!names.Contains(file.Name[1..^SniffSuffix.Length]))
                    TryDelete(file);
            }
            else if (file.Name.EndsWith(ReserveSuffix, StringComparison.Ordinal))
            {
                // A live fill holds its reservation; one that can be locked exclusively belongs to a process that died.
                if (TryDeleteUnused(file))
                    continue;
                fills++;
                total += file.Length;
            }
            else if ((file.Name.EndsWith(PartialSuffix, StringComparison.Ordinal) || file.Name.EndsWith(FillSuffix, StringComparison.Ordinal))
                     && file.LastWriteTimeUtc < stale)
            {
                TryDelete(file);
            }
        }
        foreach (var file in copies.OrderBy(f => f.LastAccessTimeUtc))
        {
            if (total + room <= MaxBytes)
                break;
            var length = file.Length;
            if (TryDeleteUnused(file))
            {
                total -= length;
                TryDelete(new FileInfo(SniffPath(file.FullName)));
            }
        }
        return (total, fills);
    }

    /// <summary>Deletes <paramref name="file"/> if no process holds a lock on it (the exclusive lock fails while any call reads it).</summary>
    private static bool TryDeleteUnused(FileInfo file)
    {
        try
        {
            using var exclusive = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.None);
            file.Delete();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryDelete(FileInfo file)
    {
        try
        {
            file.Delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover is recognisable by its name and removed by a later eviction.
        }
    }

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>The cached files one call reads, released together when the call is done.</summary>
internal sealed class CacheLeases : IDisposable
{
    private readonly List<CachedFile> _files = [];

    public void Add(CachedFile file) => _files.Add(file);

    public void Dispose()
    {
        foreach (var file in _files)
            file.Dispose();
        _files.Clear();
    }
}
