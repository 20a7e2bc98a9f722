using System.Text;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Storage.Tests.Local;

public sealed class LocalFolderStoreTests : IDisposable
{
    private readonly LocalStoreFixture _f = new();
    private LocalFolderStore Store => _f.Store;
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Creates_the_root_and_reports_its_full_path()
    {
        using var temp = new TempDirectory();
        var store = new LocalFolderStore(Path.Join(temp.Path, "a", "b", "..", "c"));

        Assert.Equal(temp.Combine("a", "c"), store.Root);
        Assert.True(Directory.Exists(store.Root));
        Assert.Equal("file", store.Scheme);
    }

    // The local store had its own table, which knew .css and .xlsx but not .py or .mp3; the tools' put path the reverse.
    [Theory]
    [InlineData("code/script.py", "text/x-python")]
    [InlineData("conf/settings.toml", "application/toml")]
    [InlineData("audio/song.mp3", "audio/mpeg")]
    [InlineData("images/scan.bmp", "image/bmp")]
    [InlineData("web/style.css", "text/css")]
    [InlineData("sheets/data.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    [InlineData("video/clip.mp4", "video/mp4")]
    [InlineData("archive/logs.tgz", "application/gzip")]
    public async Task An_object_put_without_a_type_gets_the_type_the_put_path_guesses(string key, string expected)
    {
        await _f.PutTextAsync("data", key, "x");

        var info = await Store.HeadAsync(new ObjectRef("data", key), Token);
        Assert.Equal(expected, info.ContentType);
        Assert.Equal(ContentTypes.Guess(key), info.ContentType);
    }

    [Fact]
    public async Task Put_then_read_round_trips_bytes_into_a_plain_file_under_the_bucket_folder()
    {
        var result = await _f.PutTextAsync("data", "a/b.csv", "x,y\n1,2\n");

        Assert.Equal(new PutResult("data", "a/b.csv", 8, result.ETag, null), result);
        Assert.Equal("x,y\n1,2\n", await File.ReadAllTextAsync(_f.PathOf("data", "a/b.csv"), Token));
        Assert.Equal("x,y\n1,2\n", await _f.ReadTextAsync("data", "a/b.csv"));
    }

    [Fact]
    public async Task Is_never_versioned_and_refuses_version_ids()
    {
        await _f.PutTextAsync("data", "k.txt", "v");
        Assert.False(await Store.IsVersionedAsync("data", Token));

        var versioned = new ObjectRef("data", "k.txt", "v1");
        var ex = await Assert.ThrowsAnyAsync<StorageException>(() => Store.HeadAsync(versioned, Token));
        Assert.Contains("no versions", ex.Message, StringComparison.Ordinal);
        Assert.Contains("versionId", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<StorageException>(() => Store.OpenReadAsync(versioned, cancellationToken: Token));
        await Assert.ThrowsAnyAsync<StorageException>(() => Store.DeleteAsync(versioned, Token));
        await Assert.ThrowsAnyAsync<StorageException>(() => Store.CopyAsync(versioned, "data", "copy.txt", Token));
        Assert.Throws<StorageException>(() => Store.ToPhysicalKey(versioned));
        Assert.True(File.Exists(_f.PathOf("data", "k.txt")), "a refused delete must not delete");
    }

    [Fact]
    public async Task A_bucket_appears_on_first_put_and_lists_with_valid_names_only()
    {
        Assert.Empty(await Store.ListBucketsAsync(Token));

        await _f.PutTextAsync("zeta", "k", "1");
        await _f.PutTextAsync("alpha.1-b", "k", "1");
        Directory.CreateDirectory(Path.Join(Store.Root, "Upper"));     // not an S3 bucket name
        Directory.CreateDirectory(Path.Join(Store.Root, "ab"));        // too short
        Directory.CreateDirectory(Path.Join(Store.Root, "-dash"));
        Directory.CreateDirectory(Path.Join(Store.Root, ".hidden"));
        await File.WriteAllTextAsync(Path.Join(Store.Root, "file-not-bucket"), "x", Token);

        var buckets = await Store.ListBucketsAsync(Token);

        Assert.Equal(["alpha.1-b", "zeta"], buckets.Select(b => b.Name));
        Assert.True(Directory.Exists(Path.Join(Store.Root, ".quilt-mcp")), "housekeeping exists but must not show as a bucket");
        Assert.All(buckets, b => Assert.NotNull(b.CreatedAt));
    }

    [Fact]
    public async Task Reading_from_a_bucket_that_does_not_exist_says_so()
    {
        var missing = new ObjectRef("nobucket", "k");
        Assert.Equal("nobucket", (await Assert.ThrowsAsync<BucketNotFoundException>(() => Store.HeadAsync(missing, Token))).Bucket);
        await Assert.ThrowsAsync<BucketNotFoundException>(() => Store.OpenReadAsync(missing, cancellationToken: Token));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => Store.ListAsync(new ListRequest("nobucket"), Token));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => Store.CopyAsync(missing, "other", "k", Token));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => Store.GetDownloadUrlAsync(missing, TimeSpan.FromMinutes(1), Token));
        Assert.False(Directory.Exists(Path.Join(Store.Root, "nobucket")), "reads must not create buckets");
        Assert.False(Directory.Exists(Path.Join(Store.Root, "other")), "a failed copy must not create its destination bucket");
    }

    [Fact]
    public async Task Failures_arrive_through_the_task_as_they_do_from_S3()
    {
        var head = Store.HeadAsync(new ObjectRef("nobucket", "k"), Token); // must not throw here
        var list = Store.ListAsync(new ListRequest("Bad_Name"), Token);
        var cancelled = Store.ListBucketsAsync(new CancellationToken(canceled: true));

        await Assert.ThrowsAsync<BucketNotFoundException>(() => head);
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => list);
        Assert.True(cancelled.IsCanceled);
    }

    [Fact]
    public async Task Missing_objects_and_folders_are_not_found()
    {
        await _f.PutTextAsync("data", "dir/file.txt", "x");

        foreach (var key in new[] { "nope.txt", "dir", "dir/", "dir/file.txt/deeper", "dir/nope" })
        {
            var ex = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.HeadAsync(new ObjectRef("data", key), Token));
            Assert.Equal(key, ex.Object.Key);
            await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.OpenReadAsync(new ObjectRef("data", key), cancellationToken: Token));
        }
    }

    [Fact]
    public async Task Head_reports_size_time_a_stable_etag_and_a_content_type_from_the_extension()
    {
        await _f.PutTextAsync("data", "t/table.csv", "a,b\n");
        var obj = new ObjectRef("data", "t/table.csv");

        var first = await Store.HeadAsync(obj, Token);
        var second = await Store.HeadAsync(obj, Token);

        Assert.Equal(4, first.Size);
        Assert.Equal("text/csv", first.ContentType);
        Assert.Null(first.VersionId);
        Assert.Empty(first.Metadata);
        Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(_f.PathOf("data", "t/table.csv"))), first.LastModified);
        Assert.NotNull(first.ETag);
        Assert.Equal(first.ETag, second.ETag);

        await _f.PutTextAsync("data", "t/table.csv", "a,c\n"); // same size, new content
        File.SetLastWriteTimeUtc(_f.PathOf("data", "t/table.csv"), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.NotEqual(first.ETag, (await Store.HeadAsync(obj, Token)).ETag);
    }

    [Theory]
    [InlineData("x.csv", "text/csv")]
    [InlineData("x.tsv", "text/tab-separated-values")]
    [InlineData("x.json", "application/json")]
    [InlineData("x.jsonl", "application/jsonl")]
    [InlineData("x.parquet", "application/vnd.apache.parquet")]
    [InlineData("x.txt", "text/plain")]
    [InlineData("README.md", "text/markdown")]
    [InlineData("x.html", "text/html")]
    [InlineData("x.PNG", "image/png")]
    [InlineData("x.jpeg", "image/jpeg")]
    [InlineData("x.jpg", "image/jpeg")]
    [InlineData("x.gif", "image/gif")]
    [InlineData("x.svg", "image/svg+xml")]
    [InlineData("x.pdf", "application/pdf")]
    [InlineData("x.zip", "application/zip")]
    [InlineData("x.csv.gz", "application/gzip")]
    [InlineData("no-extension", "application/octet-stream")]
    [InlineData("x.unknownext", "application/octet-stream")]
    [InlineData(".hidden", "application/octet-stream")]
    [InlineData("dir.csv/file", "application/octet-stream")]
    public async Task Content_type_comes_from_the_extension_when_none_was_given(string key, string expected)
    {
        await _f.PutTextAsync("data", key, "x");
        Assert.Equal(expected, (await Store.HeadAsync(new ObjectRef("data", key), Token)).ContentType);
    }

    [Fact]
    public async Task Content_type_and_metadata_given_at_put_come_back_and_keys_are_lowercased_as_S3_does()
    {
        var request = new PutRequest("data", "blob.csv")
        {
            ContentType = "application/x-custom",
            Metadata = new Dictionary<string, string> { ["Author"] = "Ada", ["note"] = "naïve ✓" },
        };
        await _f.PutTextAsync("data", "blob.csv", "1", request);

        var info = await Store.HeadAsync(new ObjectRef("data", "blob.csv"), Token);

        Assert.Equal("application/x-custom", info.ContentType);
        Assert.Equal(new Dictionary<string, string> { ["author"] = "Ada", ["note"] = "naïve ✓" }, info.Metadata);
        Assert.Equal(["data/blob.csv"], _f.FilesUnderRoot()); // the sidecar is housekeeping, not an object
    }

    [Fact]
    public async Task Overwriting_without_metadata_drops_the_old_metadata_as_S3_does()
    {
        await _f.PutTextAsync("data", "k.csv", "1", new PutRequest("data", "k.csv") { ContentType = "x/y", Metadata = new Dictionary<string, string> { ["a"] = "b" } });
        await _f.PutTextAsync("data", "k.csv", "22");

        var info = await Store.HeadAsync(new ObjectRef("data", "k.csv"), Token);

        Assert.Equal("text/csv", info.ContentType);
        Assert.Empty(info.Metadata);
    }

    [Fact]
    public async Task Metadata_no_longer_applies_once_another_program_rewrites_the_file()
    {
        await _f.PutTextAsync("data", "k.csv", "1", new PutRequest("data", "k.csv") { ContentType = "x/y", Metadata = new Dictionary<string, string> { ["a"] = "b" } });
        await File.WriteAllTextAsync(_f.PathOf("data", "k.csv"), "rewritten elsewhere", Token);

        var info = await Store.HeadAsync(new ObjectRef("data", "k.csv"), Token);

        Assert.Equal("text/csv", info.ContentType);
        Assert.Empty(info.Metadata);
    }

    [Fact]
    public async Task Delete_removes_the_object_its_metadata_and_the_folders_it_leaves_empty_but_not_the_bucket()
    {
        await _f.PutTextAsync("data", "a/b/c/deep.txt", "1", new PutRequest("data", "a/b/c/deep.txt") { Metadata = new Dictionary<string, string> { ["m"] = "1" } });
        await _f.PutTextAsync("data", "a/keep.txt", "2");

        await Store.DeleteAsync(new ObjectRef("data", "a/b/c/deep.txt"), Token);

        Assert.Equal(["data/a/keep.txt"], _f.FilesUnderRoot());
        Assert.False(Directory.Exists(_f.PathOf("data", "a/b")));
        await _f.PutTextAsync("data", "a/b/c/deep.txt", "3"); // same key again: no stale metadata
        Assert.Empty((await Store.HeadAsync(new ObjectRef("data", "a/b/c/deep.txt"), Token)).Metadata);

        await Store.DeleteAsync(new ObjectRef("data", "a/b/c/deep.txt"), Token);
        await Store.DeleteAsync(new ObjectRef("data", "a/keep.txt"), Token);
        Assert.Empty(_f.FilesUnderRoot());
        Assert.True(Directory.Exists(Path.Join(Store.Root, "data")), "the bucket stays, as on S3");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(Store.Root, "data")));
    }

    [Fact]
    public async Task Deleting_what_does_not_exist_is_not_an_error_and_a_folder_is_not_an_object()
    {
        await _f.PutTextAsync("data", "dir/x", "1");

        await Store.DeleteAsync(new ObjectRef("data", "nothing"), Token);
        await Store.DeleteAsync(new ObjectRef("data", "dir"), Token);
        await Store.DeleteAsync(new ObjectRef("data", "dir/x/y"), Token);

        Assert.Equal(["data/dir/x"], _f.FilesUnderRoot());
    }

    [Fact]
    public async Task Copy_duplicates_bytes_content_type_and_metadata_and_creates_the_destination_bucket()
    {
        await _f.PutTextAsync("src", "in/a.bin", "payload", new PutRequest("src", "in/a.bin") { ContentType = "x/special", Metadata = new Dictionary<string, string> { ["k"] = "v" } });

        var result = await Store.CopyAsync(new ObjectRef("src", "in/a.bin"), "dst", "out/b.bin", Token);

        Assert.Equal(("dst", "out/b.bin", 7L, (string?)null), (result.Bucket, result.Key, result.Size, result.VersionId));
        Assert.Equal("payload", await _f.ReadTextAsync("dst", "out/b.bin"));
        var info = await Store.HeadAsync(new ObjectRef("dst", "out/b.bin"), Token);
        Assert.Equal("x/special", info.ContentType);
        Assert.Equal("v", info.Metadata["k"]);
        Assert.Equal(result.ETag, info.ETag);
        Assert.Equal("payload", await _f.ReadTextAsync("src", "in/a.bin"));
    }

    [Fact]
    public async Task Copy_overwrites_the_destination_and_its_metadata()
    {
        await _f.PutTextAsync("data", "a.txt", "new");
        await _f.PutTextAsync("data", "b.txt", "old content", new PutRequest("data", "b.txt") { Metadata = new Dictionary<string, string> { ["old"] = "1" } });

        await Store.CopyAsync(new ObjectRef("data", "a.txt"), "data", "b.txt", Token);

        Assert.Equal("new", await _f.ReadTextAsync("data", "b.txt"));
        Assert.Empty((await Store.HeadAsync(new ObjectRef("data", "b.txt"), Token)).Metadata);
    }

    [Fact]
    public async Task Copy_of_a_missing_object_is_not_found_and_writes_nothing()
    {
        await _f.PutTextAsync("data", "x", "1");
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.CopyAsync(new ObjectRef("data", "missing"), "data", "y", Token));
        Assert.Equal(["data/x"], _f.FilesUnderRoot());
    }

    [Fact]
    public async Task Put_without_overwrite_refuses_an_existing_key_and_keeps_it()
    {
        await _f.PutTextAsync("data", "k", "first");

        var ex = await Assert.ThrowsAsync<ObjectExistsException>(() =>
            _f.PutTextAsync("data", "k", "second", new PutRequest("data", "k") { Overwrite = false }));

        Assert.Equal(new ObjectRef("data", "k"), ex.Object);
        Assert.Equal("first", await _f.ReadTextAsync("data", "k"));
        Assert.Empty(_f.TempFiles());
        await _f.PutTextAsync("data", "new", "x", new PutRequest("data", "new") { Overwrite = false });
        Assert.Equal("x", await _f.ReadTextAsync("data", "new"));
    }

    [Fact]
    public async Task Racing_puts_without_overwrite_have_exactly_one_winner()
    {
        const int Racers = 8;
        var gate = new TaskCompletionSource();
        var streams = Enumerable.Range(0, Racers)
            .Select(i => new GatedStream(Encoding.UTF8.GetBytes($"racer {i} "), Encoding.UTF8.GetBytes("done"), gate.Task))
            .ToList();
        var puts = streams.Select(s => Store.PutAsync(new PutRequest("data", "prize") { Overwrite = false }, s, cancellationToken: Token)).ToList();
        // Every racer is past the early existence check and holds its content in a temp file before any may finish.
        await Task.WhenAll(streams.Select(s => s.ReachedGate));
        gate.SetResult();

        var outcomes = await Task.WhenAll(puts.Select(async p =>
        {
            try
            {
                return await p;
            }
            catch (ObjectExistsException)
            {
                return null;
            }
        }));

        var winner = Assert.Single(outcomes, o => o is not null);
        var content = await _f.ReadTextAsync("data", "prize");
        Assert.Matches("^racer [0-7] done$", content);
        Assert.Equal(winner!.Size, Encoding.UTF8.GetByteCount(content));
        Assert.Empty(_f.TempFiles());
    }

    [Fact]
    public async Task A_reader_never_sees_a_half_written_object()
    {
        await _f.PutTextAsync("data", "existing.txt", "old");
        var gate = new TaskCompletionSource();
        var fresh = new GatedStream(Encoding.UTF8.GetBytes("half"), Encoding.UTF8.GetBytes(" and the rest"), gate.Task);
        var replacing = new GatedStream(Encoding.UTF8.GetBytes("new half"), Encoding.UTF8.GetBytes(" and the rest"), gate.Task);
        var putFresh = Store.PutAsync(new PutRequest("data", "fresh/new.txt"), fresh, cancellationToken: Token);
        var putReplacing = Store.PutAsync(new PutRequest("data", "existing.txt"), replacing, cancellationToken: Token);
        await fresh.ReachedGate;
        await replacing.ReachedGate;

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.HeadAsync(new ObjectRef("data", "fresh/new.txt"), Token));
        Assert.Equal("old", await _f.ReadTextAsync("data", "existing.txt"));
        var listing = await Store.ListAsync(new ListRequest("data"), Token);
        Assert.Equal(["existing.txt"], listing.Objects.Select(o => o.Key));

        gate.SetResult();
        await putFresh;
        await putReplacing;
        Assert.Equal("half and the rest", await _f.ReadTextAsync("data", "fresh/new.txt"));
        Assert.Equal("new half and the rest", await _f.ReadTextAsync("data", "existing.txt"));
    }

    [Fact]
    public async Task A_failed_put_leaves_nothing_behind()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        var failing = new GatedStream(new byte[100_000], [1, 2, 3], gate.Task, new IOException("source vanished"));

        var ex = await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(new PutRequest("newbucket", "a/b/c.bin"), failing, cancellationToken: Token));

        Assert.Equal("source vanished", ex.Message);
        Assert.Empty(_f.FilesUnderRoot());
        Assert.Empty(_f.TempFiles());
        Assert.Empty(await Store.ListBucketsAsync(Token));
    }

    [Fact]
    public async Task A_failed_overwrite_keeps_the_old_object()
    {
        await _f.PutTextAsync("data", "k", "old");
        var gate = new TaskCompletionSource();
        gate.SetResult();
        var failing = new GatedStream(new byte[10], [], gate.Task, new IOException("broken"));

        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(new PutRequest("data", "k"), failing, cancellationToken: Token));

        Assert.Equal("old", await _f.ReadTextAsync("data", "k"));
        Assert.Empty(_f.TempFiles());
    }

    [Fact]
    public async Task A_cancelled_put_leaves_nothing_behind()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var never = new TaskCompletionSource();
        var stream = new GatedStream(new byte[50_000], [9], never.Task);

        var put = Store.PutAsync(new PutRequest("data", "k.bin"), stream, cancellationToken: cts.Token);
        await stream.ReachedGate;
        Assert.NotEmpty(_f.TempFiles()); // the content so far is in a temp file...
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put);
        Assert.Empty(_f.TempFiles()); // ...which the cancel removed
        Assert.Empty(_f.FilesUnderRoot());
    }

    [Fact]
    public async Task A_length_that_does_not_match_the_content_fails_and_writes_nothing()
    {
        var ex = await Assert.ThrowsAsync<StorageException>(() =>
            Store.PutAsync(new PutRequest("data", "k") { Length = 10 }, new MemoryStream(new byte[7]), cancellationToken: Token));

        Assert.Contains("7 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("said 10", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_f.FilesUnderRoot());
        Assert.Empty(_f.TempFiles());
    }

    [Fact]
    public async Task Put_streams_large_content_and_reports_growing_progress_up_to_the_size()
    {
        const int Size = 5 * 1024 * 1024 + 123;
        var data = new byte[Size];
        new Random(42).NextBytes(data);
        var progress = new RecordingProgress();

        var result = await Store.PutAsync(new PutRequest("data", "big.bin") { Length = Size }, new MemoryStream(data), progress, Token);

        Assert.Equal(Size, result.Size);
        Assert.Equal(Size, progress.Values[^1]);
        Assert.True(progress.Values.Count > 1, "progress should be reported as the content streams, not only at the end");
        Assert.Equal(progress.Values.Order(), progress.Values);
        Assert.Equal(data, await File.ReadAllBytesAsync(_f.PathOf("data", "big.bin"), Token));
    }

    [Fact]
    public async Task An_empty_object_round_trips()
    {
        var result = await Store.PutAsync(new PutRequest("data", "empty"), new MemoryStream(), cancellationToken: Token);
        Assert.Equal(0, result.Size);
        Assert.Equal("", await _f.ReadTextAsync("data", "empty"));
        Assert.Equal("", await _f.ReadTextAsync("data", "empty", new ByteRange(0, 10)));
    }

    [Theory]
    [InlineData(0, null, "0123456789")]
    [InlineData(3, null, "3456789")]
    [InlineData(2, 3L, "234")]
    [InlineData(9, 1L, "9")]
    [InlineData(7, 100L, "789")] // past the end: clamped, like S3
    [InlineData(0, 0L, "")]
    public async Task Byte_ranges_read_just_that_window(long offset, long? length, string expected)
    {
        await _f.PutTextAsync("data", "digits", "0123456789");
        Assert.Equal(expected, await _f.ReadTextAsync("data", "digits", new ByteRange(offset, length)));
    }

    [Fact]
    public async Task A_range_starting_past_the_end_or_negative_is_refused_clearly()
    {
        await _f.PutTextAsync("data", "digits", "0123456789");

        var past = await Assert.ThrowsAsync<StorageException>(() => Store.OpenReadAsync(new ObjectRef("data", "digits"), new ByteRange(10, 5), Token));
        Assert.Contains("past the end", past.Message, StringComparison.Ordinal);
        Assert.Contains("10 bytes", past.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StorageException>(() => Store.OpenReadAsync(new ObjectRef("data", "digits"), new ByteRange(-1, 5), Token));
        await Assert.ThrowsAsync<StorageException>(() => Store.OpenReadAsync(new ObjectRef("data", "digits"), new ByteRange(0, -5), Token));
    }

    [Fact]
    public async Task A_ranged_read_of_a_large_file_streams_the_window_only()
    {
        var data = new byte[3_000_000];
        new Random(7).NextBytes(data);
        await Store.PutAsync(new PutRequest("data", "big"), new MemoryStream(data), cancellationToken: Token);

        await using var stream = await Store.OpenReadAsync(new ObjectRef("data", "big"), new ByteRange(1_000_000, 1_500_000), Token);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Token);

        Assert.Equal(data.AsSpan(1_000_000, 1_500_000).ToArray(), copy.ToArray());
    }

    [Fact]
    public async Task An_object_can_be_read_while_it_is_replaced_and_the_reader_keeps_the_old_bytes()
    {
        await _f.PutTextAsync("data", "k", "old bytes");
        await using var reader = await Store.OpenReadAsync(new ObjectRef("data", "k"), cancellationToken: Token);

        await _f.PutTextAsync("data", "k", "new bytes!");
        await Store.DeleteAsync(new ObjectRef("data", "k"), Token);

        using var text = new StreamReader(reader);
        Assert.Equal("old bytes", await text.ReadToEndAsync(Token));
    }

    [Fact]
    public async Task A_key_cannot_be_both_an_object_and_a_folder()
    {
        await _f.PutTextAsync("data", "a", "file");
        await _f.PutTextAsync("data", "dir/x", "in folder");

        var underFile = await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "a/b", "x"));
        Assert.Contains("'a' is already an object", underFile.Message, StringComparison.Ordinal);
        var overFolder = await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "dir", "x"));
        Assert.Contains("folder", overFolder.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(new ObjectRef("data", "a"), "data", "dir", Token));
        Assert.Equal(["data/a", "data/dir/x"], _f.FilesUnderRoot());
    }

    [Fact]
    public async Task Keys_may_start_with_a_dot_as_quilt_registries_do()
    {
        await _f.PutTextAsync("data", ".quilt/named_packages/user/pkg/latest", "abc");
        await _f.PutTextAsync("data", ".quilt-mcp/inside-a-bucket-is-just-a-key", "x");

        Assert.Equal("abc", await _f.ReadTextAsync("data", ".quilt/named_packages/user/pkg/latest"));
        var listing = await Store.ListAsync(new ListRequest("data"), Token);
        Assert.Equal([".quilt-mcp/inside-a-bucket-is-just-a-key", ".quilt/named_packages/user/pkg/latest"], listing.Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Download_url_is_the_file_url_of_the_object()
    {
        await _f.PutTextAsync("data", "with space/a b.txt", "x");

        var url = await Store.GetDownloadUrlAsync(new ObjectRef("data", "with space/a b.txt"), TimeSpan.FromMinutes(5), Token);

        Assert.True(url.IsFile);
        Assert.Equal(_f.PathOf("data", "with space/a b.txt"), url.LocalPath);
        Assert.Equal(Store.ToPhysicalKey(new ObjectRef("data", "with space/a b.txt")), url.AbsoluteUri);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetDownloadUrlAsync(new ObjectRef("data", "nope"), TimeSpan.FromMinutes(5), Token));
    }

    [Fact]
    public async Task Temp_files_older_than_an_hour_are_cleaned_when_a_store_opens_and_young_ones_are_kept()
    {
        await _f.PutTextAsync("data", "k", "x");
        var tmp = Path.Join(Store.Root, ".quilt-mcp", "tmp");
        Directory.CreateDirectory(tmp);
        var stale = Path.Join(tmp, "stale.part");
        var young = Path.Join(tmp, "young.part");
        await File.WriteAllTextAsync(stale, "left by a crash", Token);
        await File.WriteAllTextAsync(young, "a put in progress elsewhere", Token);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));

        _ = new LocalFolderStore(Store.Root);

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(young));
    }
}
