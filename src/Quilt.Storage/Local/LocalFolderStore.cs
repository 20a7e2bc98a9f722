using System.Buffers;
using System.Globalization;
using Quilt.Core;

namespace Quilt.Storage.Local;

/// <summary>
/// The zero-setup store: a folder whose subfolders are buckets, so s3://bucket/a/b.csv is &lt;root&gt;/bucket/a/b.csv.
/// Behaves like S3 for everything above it, except that it has no versions and a bucket appears on the first put.
/// <para>
/// No bucket name or key reaches outside the root: '.', '..' and empty segments, absolute paths, backslashes where they
/// separate folders (Windows) and control characters are refused, and so is any symbolic link on the way, wherever it points.
/// Housekeeping (temp files, content types and user metadata) lives in the hidden folder &lt;root&gt;/.quilt-mcp,
/// which no bucket name can reach.
/// </para>
/// <para>
/// ETags are not MD5s: they are the size and modification time in hex ("size-ticks"), stable while the file is
/// unchanged and different after any rewrite.
/// </para>
/// </summary>
public sealed class LocalFolderStore(string rootDirectory) : IObjectStore
{
    private const string HousekeepingFolderName = ".quilt-mcp";
    private const int CopyBufferSize = 1 << 20;
    // A put writes its temp file as it reads, so one untouched for an hour was left by a process that died (kill -9).
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    /// <summary>The full path of the root folder (created when missing).</summary>
    public string Root { get; } = CreateRoot(rootDirectory);

    private string TempFolder => Path.Join(Root, HousekeepingFolderName, "tmp");

    private MetadataSidecars Sidecars => field ??= new MetadataSidecars(Path.Join(Root, HousekeepingFolderName, "meta"), NewTempPath);

    private KeyLocks Locks => field ??= new KeyLocks(Path.Join(Root, HousekeepingFolderName, "locks"));

    public string Scheme => "file";

    public Task<bool> IsVersionedAsync(string bucket, CancellationToken cancellationToken = default) => Run(() =>
    {
        LocalPaths.ValidateBucket(bucket);
        return false;
    }, cancellationToken);

    public Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default) =>
        Run<IReadOnlyList<BucketInfo>>(() => Io(() => new DirectoryInfo(Root).EnumerateDirectories("*", new EnumerationOptions { AttributesToSkip = 0 })
            .Where(d => !d.Attributes.HasFlag(FileAttributes.ReparsePoint) && LocalPaths.IsValidBucketName(d.Name))
            .Select(d => new BucketInfo(d.Name, new DateTimeOffset(d.CreationTimeUtc)))
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList()), cancellationToken);

    public Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken = default) => Run(() =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var bucketDirectory = ExistingBucketDirectory(request.Bucket);
        return Io(() => LocalListing.List(bucketDirectory, request, cancellationToken));
    }, cancellationToken);

    public Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default) => Run(() =>
    {
        var file = ExistingObject(obj);
        var etag = ETagOf(file);
        var sidecar = Io(() => Sidecars.Read(obj.Bucket, obj.Key, etag));
        return new ObjectInfo(
            obj.Bucket, obj.Key, file.Length, LastModifiedOf(file), etag, null,
            sidecar?.ContentType ?? ContentTypes.Guess(obj.Key), sidecar?.Metadata ?? new Dictionary<string, string>());
    }, cancellationToken);

    public Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default) =>
        Run(() => OpenRead(obj, range), cancellationToken);

    private Stream OpenRead(ObjectRef obj, ByteRange? range)
    {
        var file = ExistingObject(obj);
        if (range is { } r && (r.Offset < 0 || r.Length < 0))
            throw new StorageException($"Byte range (offset {r.Offset}, length {r.Length}) of {obj} is invalid: offset and length must not be negative.");

        FileStream stream;
        try
        {
            stream = Io(() => new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(obj); // deleted since the check
        }
        if (range is not { } byteRange)
            return stream;

        var size = stream.Length; // of the file we opened, which a concurrent put may have replaced since the stat
        if (byteRange.Offset >= size && size > 0)
        {
            stream.Dispose();
            throw new StorageException(
                $"Byte range starting at {byteRange.Offset} is past the end of {obj} ({size} bytes). Request a range that starts before the end.");
        }
        // Like S3, a range running past the end is cut at the end.
        var length = Math.Min(byteRange.Length ?? long.MaxValue, size - Math.Min(byteRange.Offset, size));
        stream.Position = Math.Min(byteRange.Offset, size);
        return new BoundedReadStream(stream, length);
    }

    public async Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(content);
        var target = WritableObjectPath(request.Bucket, request.Key, request.Overwrite);
        var temp = NewTempPath();
        try
        {
            var written = await WriteTempAsync(temp, content, progress, cancellationToken);
            if (request.Length is { } expected && expected != written)
            {
                throw new StorageException(
                    $"The content for {new ObjectRef(request.Bucket, request.Key)} was {written} bytes but the request said {expected}. " +
                    "Nothing was written; check the source and the length given.");
            }
            var metadata = request.Metadata?.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value, StringComparer.Ordinal);
            return await PlaceAsync(temp, target, request.Bucket, request.Key, request.Overwrite, request.ContentType, metadata, cancellationToken);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<PutResult> CopyAsync(ObjectRef source, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default)
    {
        var sourceFile = ExistingObject(source);
        var target = WritableObjectPath(destinationBucket, destinationKey, overwrite: true);
        var sidecar = Io(() => Sidecars.Read(source.Bucket, source.Key, ETagOf(sourceFile)));
        var temp = NewTempPath();
        try
        {
            // Streamed rather than File.Copy, so a cancelled copy of a large file stops promptly.
            await using (var input = Io(() => new FileStream(sourceFile.FullName, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan)))
            {
                await WriteTempAsync(temp, input, null, cancellationToken);
            }
            return await PlaceAsync(temp, target, destinationBucket, destinationKey, overwrite: true, sidecar?.ContentType, sidecar?.Metadata, cancellationToken);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        var path = Inspect(obj, forWrite: false);
        if (path.Kind != EntryKind.File)
            return;
        // Under the key's lock, so a put finishing meanwhile cannot lose its metadata to this delete.
        using (await Locks.AcquireAsync(obj.Bucket, obj.Key, cancellationToken))
        {
            Io(() =>
            {
                if (Inspect(obj, forWrite: false).Kind != EntryKind.File)
                    return;
                File.Delete(path.FullPath);
                Sidecars.Delete(obj.Bucket, obj.Key);
                RemoveEmptyFolders(Path.GetDirectoryName(path.FullPath)!, path.BucketDirectory);
            });
        }
    }

    /// <summary>The file:// URL of the object (it exists; <paramref name="expiresIn"/> does not apply to a local file).</summary>
    public Task<Uri> GetDownloadUrlAsync(ObjectRef obj, TimeSpan expiresIn, CancellationToken cancellationToken = default) =>
        Run(() => new Uri(PhysicalKey.File(ExistingObject(obj).FullName).ToString()), cancellationToken);

    /// <summary>file:///&lt;root&gt;/&lt;bucket&gt;/&lt;key&gt;, percent-encoded as quilt3 writes it.</summary>
    public string ToPhysicalKey(ObjectRef obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        RefuseVersion(obj);
        LocalPaths.ValidateBucket(obj.Bucket);
        var segments = LocalPaths.ValidateKey(obj.Bucket, obj.Key, forWrite: true);
        return PhysicalKey.File(Path.Join([Root, obj.Bucket, .. segments])).ToString();
    }

    /// <summary>The object a file:// URL under this root names; null for any other URL, path or bad name.</summary>
    public ObjectRef? FromPhysicalKey(string physicalKey)
    {
        // quilt3 refuses a fragment as it does a query (which PhysicalKey.Parse refuses); '#' in a name is encoded.
        if (physicalKey is null || physicalKey.Contains('#', StringComparison.Ordinal)
            || !PhysicalKey.TryParse(physicalKey, out var parsed) || parsed is not { IsLocal: true, Path: var path })
        {
            return null;
        }
        var rootPrefix = Root.TrimEnd('/') + "/";
        if (!path.StartsWith(rootPrefix, StringComparison.Ordinal))
            return null;
        var relative = path[rootPrefix.Length..];
        var slash = relative.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
            return null;
        var bucket = relative[..slash];
        var key = relative[(slash + 1)..];
        return LocalPaths.IsValidBucketName(bucket) && LocalPaths.KeyProblem(key, forWrite: true) is null ? new ObjectRef(bucket, key) : null;
    }

    internal static string ETagOf(FileInfo file) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\"");

    internal static DateTimeOffset LastModifiedOf(FileInfo file) => new(file.LastWriteTimeUtc, TimeSpan.Zero);

    private static string CreateRoot(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"Cannot create the local storage folder {root}: {e.Message} Choose a folder you can write to.", e);
        }
        RemoveStaleTempFiles(Path.Join(root, HousekeepingFolderName, "tmp"));
        return root;
    }

    /// <summary>
    /// Temp files a crashed process left behind (untouched for over <see cref="StaleTempAge"/>); young ones may belong to a put
    /// still running elsewhere.
    /// </summary>
    private static void RemoveStaleTempFiles(string tempFolder)
    {
        try
        {
            if (!Directory.Exists(tempFolder))
                return;
            foreach (var file in new DirectoryInfo(tempFolder).EnumerateFiles())
            {
                if (DateTime.UtcNow - file.LastWriteTimeUtc > StaleTempAge)
                    file.Delete();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Housekeeping only: leftovers waste space but never show as objects.
        }
    }

    private string NewTempPath()
    {
        Directory.CreateDirectory(TempFolder);
        return Path.Join(TempFolder, Guid.NewGuid().ToString("N") + ".part");
    }

    private static async Task<long> WriteTempAsync(string temp, Stream content, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            await using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.Asynchronous);
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                total += read;
                progress?.Report(total);
            }
            // On disk before the rename makes it visible, so a crash cannot leave a whole-looking but empty file.
            output.Flush(flushToDisk: true);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves a finished temp file to its key in one rename, so readers see the old object or the new one, never a part.</summary>
    private async Task<PutResult> PlaceAsync(string temp, string target, string bucket, string key, bool overwrite,
        string? contentType, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var written = new FileInfo(temp); // a rename keeps size and modification time: these are the object's
        var etag = ETagOf(written);
        var size = written.Length;
        var obj = new ObjectRef(bucket, key);
        using (await Locks.AcquireAsync(bucket, key, cancellationToken))
        {
            Io(() =>
            {
                for (var attempt = 1; ; attempt++)
                {
                    CreateFolders(obj);
                    // Checked again under the lock: nothing placed since the first check (a link, a racing put's
                    // object) may be followed or overwritten.
                    var placed = Inspect(obj, forWrite: true);
                    if (placed.Kind == EntryKind.File && !overwrite)
                        throw new ObjectExistsException(obj);
                    try
                    {
                        File.Move(temp, target, overwrite);
                        break;
                    }
                    catch (DirectoryNotFoundException) when (attempt < 3)
                    {
                        // A delete of the folder's last object pruned the folder we just created; create it again.
                    }
                    catch (IOException) when (!overwrite && File.Exists(target))
                    {
                        throw new ObjectExistsException(obj); // written by another program meanwhile
                    }
                }
                Sidecars.Write(bucket, key, etag, contentType, metadata);
            });
        }
        return new PutResult(bucket, key, size, etag, null);
    }

    /// <summary>
    /// Creates the bucket folder and the key's folders one level at a time, each checked to be a real folder before
    /// the next is made in it; Directory.CreateDirectory on the whole path would follow a link planted on the way.
    /// </summary>
    private void CreateFolders(ObjectRef obj)
    {
        var segments = obj.Key.Split('/');
        var folder = Root;
        foreach (var name in segments[..^1].Prepend(obj.Bucket))
        {
            folder = Path.Join(folder, name);
            if (KindOf(folder, out _) == EntryKind.Missing)
                Directory.CreateDirectory(folder);
            if (KindOf(folder, out var isLink) != EntryKind.Directory || isLink)
                Inspect(obj, forWrite: true); // throws the precise error: a link, or a file where a folder must be
        }
    }

    /// <summary>The file of an existing object, checked all the way down.</summary>
    private FileInfo ExistingObject(ObjectRef obj)
    {
        var path = Inspect(obj, forWrite: false);
        if (path.Kind != EntryKind.File)
            throw new ObjectNotFoundException(obj);
        var file = new FileInfo(path.FullPath);
        return file.Exists ? file : throw new ObjectNotFoundException(obj);
    }

    private string ExistingBucketDirectory(string bucket)
    {
        LocalPaths.ValidateBucket(bucket);
        var directory = Path.Join(Root, bucket);
        var kind = KindOf(directory, out var isLink);
        if (isLink)
            throw LinkRefused(bucket, null, bucket);
        return kind == EntryKind.Directory ? directory : throw new BucketNotFoundException(bucket);
    }

    /// <summary>The path a put or copy may write, refusing what cannot be a file there.</summary>
    private string WritableObjectPath(string bucket, string key, bool overwrite)
    {
        var path = Inspect(new ObjectRef(bucket, key), forWrite: true);
        if (path.Kind == EntryKind.File && !overwrite)
            throw new ObjectExistsException(new ObjectRef(bucket, key)); // early, before reading the content; checked again at the rename
        if (path.Kind == EntryKind.Directory)
        {
            throw new InvalidObjectPathException(
                $"Key '{LocalPaths.Display(key)}' in bucket '{bucket}' cannot be written: the local folder already has a folder of objects " +
                $"at {path.FullPath} (keys starting with '{LocalPaths.Display(key)}/'), and a folder store cannot hold a file of the same name. Choose another key.");
        }
        return path.FullPath;
    }

    /// <summary>
    /// Validates a ref and walks its path from the bucket folder down without following anything: every existing
    /// component must be a real folder (the last one a real file), never a symbolic link, even one pointing inside.
    /// </summary>
    private ObjectPath Inspect(ObjectRef obj, bool forWrite)
    {
        ArgumentNullException.ThrowIfNull(obj);
        RefuseVersion(obj);
        LocalPaths.ValidateBucket(obj.Bucket);
        var segments = LocalPaths.ValidateKey(obj.Bucket, obj.Key, forWrite);

        var bucketDirectory = Path.Join(Root, obj.Bucket);
        var bucketKind = KindOf(bucketDirectory, out var bucketIsLink);
        if (bucketIsLink)
            throw LinkRefused(obj.Bucket, obj.Key, obj.Bucket);
        var fullPath = Path.Join([bucketDirectory, .. segments]);
        if (bucketKind != EntryKind.Directory)
        {
            if (!forWrite)
                throw new BucketNotFoundException(obj.Bucket);
            if (bucketKind == EntryKind.File)
                throw new InvalidObjectPathException($"Bucket '{obj.Bucket}' cannot be created: {bucketDirectory} is a file. Move it away or use another bucket.");
            return new ObjectPath(bucketDirectory, fullPath, EntryKind.Missing);
        }

        var current = bucketDirectory;
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].Length == 0)
                break; // the trailing '/' of a folder-like key being read: no file has that name
            current = Path.Join(current, segments[i]);
            var kind = KindOf(current, out var isLink);
            if (isLink)
                throw LinkRefused(obj.Bucket, obj.Key, string.Join('/', segments[..(i + 1)]));
            var isLast = i == segments.Length - 1;
            if (kind == EntryKind.Missing || isLast)
                return new ObjectPath(bucketDirectory, fullPath, isLast ? kind : EntryKind.Missing);
            if (kind == EntryKind.File)
            {
                if (!forWrite)
                    return new ObjectPath(bucketDirectory, fullPath, EntryKind.Missing); // as on S3: "a" existing says nothing about "a/b"
                throw new InvalidObjectPathException(
                    $"Key '{LocalPaths.Display(obj.Key)}' in bucket '{obj.Bucket}' cannot be written: '{string.Join('/', segments[..(i + 1)])}' is already " +
                    "an object (a file), and a folder store cannot hold a file and a folder of the same name. Choose another key.");
            }
        }
        return new ObjectPath(bucketDirectory, fullPath, EntryKind.Missing);
    }

    private static EntryKind KindOf(string path, out bool isLink)
    {
        var attributes = new FileInfo(path).Attributes; // lstat: a link reports itself, not its target
        if ((int)attributes == -1)
        {
            isLink = false;
            return EntryKind.Missing;
        }
        isLink = attributes.HasFlag(FileAttributes.ReparsePoint);
        return attributes.HasFlag(FileAttributes.Directory) ? EntryKind.Directory : EntryKind.File;
    }

    private static InvalidObjectPathException LinkRefused(string bucket, string? key, string linkPath) => new(
        (key is null ? $"Bucket '{bucket}'" : $"Key '{LocalPaths.Display(key)}' in bucket '{bucket}'") +
        $" is not allowed: '{linkPath}' is a symbolic link, and the local folder store never follows links (one could lead " +
        "outside its root). Replace the link with a real folder or file.");

    private static void RefuseVersion(ObjectRef obj)
    {
        if (obj.VersionId is not null)
        {
            throw new StorageException(
                $"{obj} names a version, but the local folder store keeps no versions (only the current object). " +
                "Drop the versionId, or use an S3 bucket with versioning.");
        }
    }

    /// <summary>S3 has no empty folders: after a delete, remove the folders it left empty, up to the bucket.</summary>
    private static void RemoveEmptyFolders(string folder, string bucketDirectory)
    {
        while (folder.Length > bucketDirectory.Length && folder.StartsWith(bucketDirectory, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(folder, recursive: false);
            }
            catch (IOException)
            {
                return; // not empty (or gone): stop here
            }
            folder = Path.GetDirectoryName(folder)!;
        }
    }

    /// <summary>Synchronous file work as a task: failures, like those of the S3 store, surface when it is awaited.</summary>
    private static Task<T> Run<T>(Func<T> action, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled<T>(cancellationToken);
        try
        {
            return Task.FromResult(action());
        }
        catch (OperationCanceledException e) when (e.CancellationToken == cancellationToken)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    /// <summary>File system failures as storage errors a user can act on.</summary>
    private T Io<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AccessDeniedException($"The local folder store was denied access under {Root}: {e.Message} Check the folder's permissions.", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new StorageException($"The local folder store under {Root} failed: {e.Message}", e);
        }
    }

    private void Io(Action action) => Io(() =>
    {
        action();
        return 0;
    });

    private enum EntryKind { Missing, File, Directory }

    private readonly record struct ObjectPath(string BucketDirectory, string FullPath, EntryKind Kind);
}
