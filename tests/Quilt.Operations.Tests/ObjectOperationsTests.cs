using System.Security.Cryptography;
using System.Text;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>
/// The object operations the MCP tools and the CLI's object commands are adapters over, on a real store seen through a
/// wrapper that counts lookups: once over a local folder, once over the S3 server on loopback.
/// </summary>
public abstract class ObjectOperationsTests : IAsyncLifetime
{
    private readonly TempDirectory _files = new("quilt-ops-files");
    private TestBucket _bucket = null!;
    private CountingStore _store = null!;
    private ObjectOperations _ops = null!;

    protected string Bucket { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract TestStorage Storage { get; }

    public async ValueTask InitializeAsync()
    {
        _bucket = await TestBucket.OpenAsync(Storage, "data-bucket", Ct);
        Bucket = _bucket.Bucket;
        _store = new CountingStore(_bucket.Store);
        var settings = new OperationSettings { Storage = new StorageSettings(), AllowedBuckets = [Bucket] };
        _ops = new QuiltOperations(new StoreConnection(_store), settings, new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: false))).Objects;
    }

    public ValueTask DisposeAsync()
    {
        _files.Dispose();
        _bucket?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task An_overwrite_false_put_of_one_object_leaves_the_lookup_to_the_stores_conditional_write_and_still_refuses_an_existing_key()
    {
        await PutTextAsync("a.txt", "first");
        _store.Heads = 0;

        var e = await Assert.ThrowsAsync<OperationException>(() => _ops.PutAsync([Text("a.txt", "second")], overwrite: false, null, Ct));

        Assert.Equal($"s3://{Bucket}/a.txt already exists and overwrite is false. Nothing was written. Pass overwrite=true to replace it, or choose another key.",
            e.Message);
        Assert.Equal("first", await ReadTextAsync("a.txt"));
        // The store's own conditional write is the one lookup: the operation adds none (it used to HEAD first, then the store again).
        Assert.Equal(0, _store.Heads);

        var written = await _ops.PutAsync([Text("b.txt", "new")], overwrite: false, null, Ct);
        Assert.Equal(3, Assert.Single(written.Objects).Size);
        Assert.Equal(0, _store.Heads);
    }

    [Fact]
    public async Task Several_overwrite_false_puts_are_refused_together_before_any_is_written()
    {
        await PutTextAsync("kept.txt", "first");

        var e = await Assert.ThrowsAsync<OperationException>(() =>
            _ops.PutAsync([Text("fresh.txt", "x"), Text("kept.txt", "second")], overwrite: false, null, Ct));

        Assert.StartsWith($"s3://{Bucket}/kept.txt already exists and overwrite is false. Nothing was written.", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.Inner.HeadAsync(new ObjectRef(Bucket, "fresh.txt"), Ct));
        Assert.Equal("first", await ReadTextAsync("kept.txt"));
    }

    [Fact]
    public async Task A_put_from_a_stream_of_unknown_length_is_checked_and_refused_as_a_listed_put_is()
    {
        var target = _ops.Uris.ForWrite($"s3://{Bucket}/in/table.csv", "uri");
        var written = await _ops.PutStreamAsync(target, TestStreams.NonSeekable("a,b\n1,2\n"u8.ToArray()), null, overwrite: false, null, Ct);
        Assert.Equal(8, written.Size);
        Assert.Equal("text/csv", written.ContentType);

        var e = await Assert.ThrowsAsync<OperationException>(() =>
            _ops.PutStreamAsync(target, TestStreams.NonSeekable("other"u8.ToArray()), null, overwrite: false, null, Ct));
        Assert.Contains("already exists and overwrite is false. Nothing was written.", e.Message, StringComparison.Ordinal);
        Assert.Equal("a,b\n1,2\n", await ReadTextAsync("in/table.csv"));

        var badType = await Assert.ThrowsAsync<OperationException>(() =>
            _ops.PutStreamAsync(target, TestStreams.NonSeekable("x"u8.ToArray()), "not a type", overwrite: true, null, Ct));
        Assert.StartsWith("contentType:", badType.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_overwrite_false_copy_looks_up_only_its_destination()
    {
        await PutTextAsync("src.txt", "source");
        await PutTextAsync("dst.txt", "destination");
        var source = await _ops.ReadableAsync($"s3://{Bucket}/src.txt", "source", Ct);
        _store.Heads = 0;

        var e = await Assert.ThrowsAsync<OperationException>(() => _ops.CopyAsync(source, $"s3://{Bucket}/dst.txt", overwrite: false, Ct));
        Assert.Equal($"s3://{Bucket}/dst.txt already exists and overwrite is false. Nothing was copied. Pass overwrite=true to replace it, or choose another key.",
            e.Message);
        Assert.Equal("destination", await ReadTextAsync("dst.txt"));
        Assert.Equal(1, _store.Heads);

        _store.Heads = 0;
        var copied = await _ops.CopyAsync(source, $"s3://{Bucket}/copies/", overwrite: false, Ct);
        Assert.Equal($"s3://{Bucket}/copies/src.txt", copied.Destination);
        Assert.Equal("source", await ReadTextAsync("copies/src.txt"));
        // The store's copy finds the source itself; the operation looks up only the destination it must not replace.
        Assert.Equal(1, _store.Heads);

        var missing = await _ops.ReadableAsync($"s3://{Bucket}/missing.txt", "source", Ct);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _ops.CopyAsync(missing, $"s3://{Bucket}/new.txt", overwrite: false, Ct));
    }

    [Fact]
    public async Task The_targets_a_put_or_copy_would_replace_are_found_one_lookup_each()
    {
        await PutTextAsync("old.txt", "old");
        await PutTextAsync("dir/src.txt", "source");
        _store.Heads = 0;

        // What a confirmation names: the existing targets, once each; an item that names no target is left to the put.
        var existing = await _ops.ExistingPutTargetsAsync(
            [Text("new.txt", "n"), Text("old.txt", "x"), Text("old.txt", "y"), new PutObjectInput { Uri = "ftp://nowhere/x", Text = "z" }, null], Ct);
        Assert.Equal([$"s3://{Bucket}/old.txt"], existing);
        Assert.Equal(2, _store.Heads);
        // A copy to a folder lands under the source's file name.
        var source = await _ops.ReadableAsync($"s3://{Bucket}/dir/src.txt", "source", Ct);
        Assert.Equal(new ObjectRef(Bucket, "copies/src.txt"), _ops.CopyDestination(source, $"s3://{Bucket}/copies/"));
        Assert.False(await _ops.ExistsAsync(_ops.CopyDestination(source, $"s3://{Bucket}/copies/"), Ct));
        Assert.True(await _ops.ExistsAsync(_ops.CopyDestination(source, $"s3://{Bucket}/old.txt"), Ct));
    }

    [Fact]
    public async Task A_fetch_to_a_file_replaces_an_existing_file_only_with_overwrite_and_reports_its_hash()
    {
        await PutTextAsync("data/f.txt", "fresh bytes");
        var path = _files.Combine("f.txt");
        await File.WriteAllTextAsync(path, "old", Ct);
        var source = await _ops.ReadableAsync($"s3://{Bucket}/data/f.txt", "uri", Ct);

        var e = await Assert.ThrowsAsync<OperationException>(() => _ops.FetchToFileAsync(source, path, overwrite: false, null, Ct));
        Assert.StartsWith($"destination '{path}' already exists.", e.Message, StringComparison.Ordinal);
        Assert.Equal("old", await File.ReadAllTextAsync(path, Ct));

        var saved = await _ops.FetchToFileAsync(source, _files.Path, overwrite: true, null, Ct);
        Assert.Equal(path, saved.Path);
        Assert.Equal("fresh bytes", await File.ReadAllTextAsync(path, Ct));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("fresh bytes"u8)), saved.Sha256);
        Assert.Equal(["f.txt"], Directory.GetFiles(_files.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_download_that_reads_more_than_the_object_it_looked_up_saves_nothing_and_keeps_the_existing_file()
    {
        await PutTextAsync("grows.txt", "12345");
        var path = _files.Combine("grows.txt");
        await File.WriteAllTextAsync(path, "old", Ct);
        var source = await _ops.ReadableAsync($"s3://{Bucket}/grows.txt", "uri", Ct);
        // The object is replaced by a longer one between the lookup and the read.
        _store.ReadThrough = read =>
        {
            read.Dispose();
            return new MemoryStream("1234567890"u8.ToArray());
        };

        var e = await Assert.ThrowsAsync<OperationException>(() => _ops.FetchToFileAsync(source, path, overwrite: true, null, Ct));

        Assert.Contains("changed while it was downloaded (more than the 5 bytes expected). Nothing was saved", e.Message, StringComparison.Ordinal);
        Assert.Equal("old", await File.ReadAllTextAsync(path, Ct));
        Assert.Equal(["grows.txt"], Directory.GetFiles(_files.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_cancelled_download_leaves_no_file_behind()
    {
        var bytes = TestStreams.Bytes(3 * 1024 * 1024);
        await PutBytesAsync("big.bin", bytes);
        var source = await _ops.ReadableAsync($"s3://{Bucket}/big.bin", "uri", Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        // The same bytes, with the call cancelled after the first MiB has been written.
        _store.ReadThrough = read =>
        {
            read.Dispose();
            return TestStreams.RunningAfter(bytes, 1024 * 1024, cancel.Cancel);
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _ops.FetchToFileAsync(source, _files.Combine("big.bin"), overwrite: false, null, cancel.Token));

        Assert.Empty(Directory.GetFiles(_files.Path));
    }

    [Fact]
    public async Task A_listing_pages_through_every_key_with_the_cursor_it_returns()
    {
        foreach (var name in new[] { "p/1", "p/2", "p/3", "p/sub/4", "p/sub/5" })
            await PutTextAsync(name, name);

        var keys = new List<string>();
        var folders = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _ops.ListObjectsAsync($"s3://{Bucket}/p/", null, "/", PageRequest.Of(2, cursor), Ct);
            keys.AddRange(page.Objects.Select(o => page.Prefix + o.Name));
            folders.AddRange(page.Folders.Select(f => page.Prefix + f));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(["p/1", "p/2", "p/3"], keys);
        Assert.Equal(["p/sub/"], folders);
        var e = await Assert.ThrowsAsync<OperationException>(() => _ops.ListObjectsAsync($"s3://{Bucket}/p/", "q/", null, PageRequest.Of(2, null), Ct));
        Assert.StartsWith("The prefix was given twice", e.Message, StringComparison.Ordinal);
    }

    private PutObjectInput Text(string key, string text) => new() { Uri = $"s3://{Bucket}/{key}", Text = text };

    private Task PutTextAsync(string key, string text) => PutBytesAsync(key, Encoding.UTF8.GetBytes(text));

    private async Task PutBytesAsync(string key, byte[] bytes) =>
        await _store.Inner.PutAsync(new PutRequest(Bucket, key) { Length = bytes.Length }, new MemoryStream(bytes), null, Ct);

    private async Task<string> ReadTextAsync(string key)
    {
        await using var stream = await _store.Inner.OpenReadAsync(new ObjectRef(Bucket, key), null, Ct);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(Ct);
    }

    /// <summary>The real store, counting HEADs made through it, and optionally changing what a read returns.</summary>
    private sealed class CountingStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        public int Heads;

        public Func<Stream, Stream>? ReadThrough { get; set; }

        public override Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Heads);
            return base.HeadAsync(obj, cancellationToken);
        }

        public override async Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            var stream = await base.OpenReadAsync(obj, range, cancellationToken);
            return ReadThrough is { } change ? change(stream) : stream;
        }
    }
}

public sealed class LocalObjectOperationsTests : ObjectOperationsTests
{
    private protected override TestStorage Storage => TestStorage.LocalFolder;
}

public sealed class S3ObjectOperationsTests : ObjectOperationsTests
{
    private protected override TestStorage Storage => TestStorage.S3;
}
