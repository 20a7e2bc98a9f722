using System.Text;
using Quilt.Storage.S3;
using Quilt.Testing;
using static Quilt.Storage.Tests.S3.S3Test;

namespace Quilt.Storage.Tests.S3;

public sealed class S3ObjectStoreTests
{
    [Fact]
    public async Task Versioned_bucket_keeps_every_version_readable_by_its_id_and_physical_key()
    {
        var (_, store, bucket) = await BucketAsync(versioned: true);
        var first = await store.PutBytesAsync(bucket, "data/file.csv", "a,b\n1,2\n"u8.ToArray());
        var second = await store.PutBytesAsync(bucket, "data/file.csv", "a,b\n3,4\n"u8.ToArray());

        Assert.True(await store.IsVersionedAsync(bucket, Ct));
        Assert.NotNull(first.VersionId);
        Assert.NotNull(second.VersionId);
        Assert.NotEqual(first.VersionId, second.VersionId);

        Assert.Equal("a,b\n3,4\n", Encoding.UTF8.GetString(await store.ReadAllAsync(new ObjectRef(bucket, "data/file.csv"))));
        Assert.Equal("a,b\n1,2\n", Encoding.UTF8.GetString(await store.ReadAllAsync(first.Ref)));
        Assert.Equal(second.VersionId, (await store.HeadAsync(new ObjectRef(bucket, "data/file.csv"), Ct)).VersionId);
        Assert.Equal(first.VersionId, (await store.HeadAsync(first.Ref, Ct)).VersionId);

        var physicalKey = store.ToPhysicalKey(first.Ref);
        Assert.Equal($"s3://{bucket}/data/file.csv?versionId={Quilt.Core.UrlEncoding.QuotePlus(first.VersionId)}", physicalKey);
        var parsed = store.FromPhysicalKey(physicalKey);
        Assert.Equal(first.Ref, parsed);
        Assert.Equal("a,b\n1,2\n", Encoding.UTF8.GetString(await store.ReadAllAsync(parsed!)));
    }

    [Fact]
    public async Task Unversioned_bucket_overwrites_and_writes_physical_keys_without_version()
    {
        var (_, store, bucket) = await BucketAsync(versioned: false);
        var first = await store.PutBytesAsync(bucket, "k", "one"u8.ToArray());
        var second = await store.PutBytesAsync(bucket, "k", "two"u8.ToArray());

        Assert.False(await store.IsVersionedAsync(bucket, Ct));
        Assert.Null(first.VersionId);
        Assert.Null(second.VersionId);
        Assert.Equal("two", Encoding.UTF8.GetString(await store.ReadAllAsync(first.Ref)));
        Assert.Equal($"s3://{bucket}/k", store.ToPhysicalKey(second.Ref));
        Assert.Equal(3, second.Size);
    }

    [Fact]
    public async Task Listing_pages_through_every_key_once_in_order()
    {
        var (_, store, bucket) = await BucketAsync();
        var keys = Enumerable.Range(0, 23).Select(i => $"p/{i:D3}.txt").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct },
            async (key, _) => await store.PutBytesAsync(bucket, key, Encoding.UTF8.GetBytes(key)));
        await store.PutBytesAsync(bucket, "other.txt", [1]);

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await store.ListAsync(new ListRequest(bucket, "p/", PageSize: 5, ContinuationToken: token), Ct);
            Assert.True(page.Objects.Count <= 5);
            seen.AddRange(page.Objects.Select(o => o.Key));
            Assert.All(page.Objects, o => Assert.Equal(Encoding.UTF8.GetByteCount(o.Key), o.Size));
            token = page.NextContinuationToken;
            Assert.Equal(token is not null, page.IsTruncated);
            pages++;
        }
        while (token is not null);

        Assert.Equal(keys, seen);
        Assert.Equal(5, pages);
    }

    [Fact]
    public async Task Delimiter_folds_keys_below_it_into_common_prefixes()
    {
        var (_, store, bucket) = await BucketAsync();
        foreach (var key in new[] { "top.txt", "a/1.txt", "a/2.txt", "b/c/3.txt", "b/4.txt" })
            await store.PutBytesAsync(bucket, key, [42]);

        var root = await store.ListAsync(new ListRequest(bucket, Delimiter: "/"), Ct);
        Assert.Equal(["top.txt"], root.Objects.Select(o => o.Key));
        Assert.Equal(["a/", "b/"], root.CommonPrefixes);
        Assert.False(root.IsTruncated);

        var b = await store.ListAsync(new ListRequest(bucket, "b/", Delimiter: "/"), Ct);
        Assert.Equal(["b/4.txt"], b.Objects.Select(o => o.Key));
        Assert.Equal(["b/c/"], b.CommonPrefixes);

        var all = await store.ListAsync(new ListRequest(bucket), Ct);
        Assert.Equal(5, all.Objects.Count);
        Assert.Empty(all.CommonPrefixes);
    }

    [Fact]
    public async Task Head_returns_size_type_etag_time_and_user_metadata()
    {
        var (_, store, bucket) = await BucketAsync();
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        var put = await store.PutAsync(
            new PutRequest(bucket, "table.csv")
            {
                ContentType = "text/csv",
                Metadata = new Dictionary<string, string> { ["author"] = "alice", ["source"] = "lab 7", ["note"] = "Zoë, 日本 =?x?=" },
            },
            new MemoryStream("x,y\n"u8.ToArray()), null, Ct);

        var info = await store.HeadAsync(new ObjectRef(bucket, "table.csv"), Ct);
        Assert.Equal(bucket, info.Bucket);
        Assert.Equal("table.csv", info.Key);
        Assert.Equal(4, info.Size);
        Assert.Equal("text/csv", info.ContentType);
        Assert.Equal(put.ETag, info.ETag);
#pragma warning disable CA5351 // S3's ETag of a single PUT is the MD5 of the bytes: compared here, not relied on for security.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("x,y\n"u8)), info.ETag);
#pragma warning restore CA5351
        Assert.InRange(info.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal("alice", info.Metadata["author"]);
        Assert.Equal("lab 7", info.Metadata["source"]);
        Assert.Equal("Zoë, 日本 =?x?=", info.Metadata["note"]);
        Assert.Equal(3, info.Metadata.Count);
    }

    [Fact]
    public async Task Metadata_name_that_cannot_be_a_header_is_refused_before_writing()
    {
        var (_, store, bucket) = await BucketAsync();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(
            new PutRequest(bucket, "k") { Metadata = new Dictionary<string, string> { ["bad name"] = "v" } }, new MemoryStream([1]), null, Ct));
        Assert.Contains("'bad name'", ex.Message, StringComparison.Ordinal);
        Assert.Empty((await store.ListAsync(new ListRequest(bucket), Ct)).Objects);
    }

    [Fact]
    public async Task Ranged_reads_return_exactly_the_requested_bytes()
    {
        var (_, store, bucket) = await BucketAsync();
        var bytes = TestStreams.Bytes(1000, seed: 3);
        var obj = (await store.PutBytesAsync(bucket, "r.bin", bytes)).Ref;

        Assert.Equal(bytes[10..30], await store.ReadAllAsync(obj, new ByteRange(10, 20)));
        Assert.Equal(bytes[990..], await store.ReadAllAsync(obj, new ByteRange(990, null)));
        Assert.Equal(bytes[995..], await store.ReadAllAsync(obj, new ByteRange(995, 100)));
        Assert.Empty(await store.ReadAllAsync(obj, new ByteRange(10, 0)));
        Assert.Empty(await store.ReadAllAsync(obj, new ByteRange(1000, null)));
        Assert.Empty(await store.ReadAllAsync(obj, new ByteRange(5000, 5)));
        Assert.Equal(bytes, await store.ReadAllAsync(obj));

        await using var stream = await store.OpenReadAsync(obj, new ByteRange(100, 50), Ct);
        Assert.False(stream.CanSeek);
        Assert.Equal(50, stream.Length);
    }

    [Fact]
    public async Task Empty_object_round_trips()
    {
        var (_, store, bucket) = await BucketAsync();
        var put = await store.PutBytesAsync(bucket, "empty", []);
        Assert.Equal(0, put.Size);
        Assert.Empty(await store.ReadAllAsync(put.Ref));
        Assert.Empty(await store.ReadAllAsync(put.Ref, new ByteRange(0, null)));
        Assert.Equal(0, (await store.HeadAsync(put.Ref, Ct)).Size);
    }

    [Fact]
    public async Task Copy_keeps_bytes_type_and_metadata_and_can_copy_an_old_version_across_buckets()
    {
        var (server, store, bucket) = await BucketAsync(versioned: true);
        var other = await server.CreateBucketAsync(versioned: false, Ct);
        var v1 = await store.PutAsync(
            new PutRequest(bucket, "src.json") { ContentType = "application/json", Metadata = new Dictionary<string, string> { ["k"] = "v" } },
            new MemoryStream("{\"v\":1}"u8.ToArray()), null, Ct);
        await store.PutBytesAsync(bucket, "src.json", "{\"v\":2}"u8.ToArray());

        var copy = await store.CopyAsync(new ObjectRef(bucket, "src.json"), bucket, "dst.json", Ct);
        Assert.Equal(7, copy.Size);
        Assert.NotNull(copy.VersionId);
        Assert.Equal("{\"v\":2}", Encoding.UTF8.GetString(await store.ReadAllAsync(copy.Ref)));
        Assert.Equal(copy.VersionId, (await store.HeadAsync(new ObjectRef(bucket, "dst.json"), Ct)).VersionId);

        var old = await store.CopyAsync(v1.Ref, other, "old.json", Ct);
        Assert.Null(old.VersionId);
        Assert.Equal("{\"v\":1}", Encoding.UTF8.GetString(await store.ReadAllAsync(old.Ref)));
        var info = await store.HeadAsync(old.Ref, Ct);
        Assert.Equal("application/json", info.ContentType);
        Assert.Equal("v", info.Metadata["k"]);
    }

    [Fact]
    public async Task Copy_of_a_large_object_goes_in_parts_and_keeps_bytes_and_metadata()
    {
        var (_, store, bucket) = await BucketAsync(options: new S3StoreOptions { MultipartCopyThreshold = S3StoreOptions.MinPartSize, PartSize = S3StoreOptions.MinPartSize });
        var bytes = TestStreams.Bytes(12 * 1024 * 1024 + 7, seed: 9);
        await store.PutAsync(
            new PutRequest(bucket, "big.bin") { ContentType = "application/x-test", Metadata = new Dictionary<string, string> { ["m"] = "1" } },
            new MemoryStream(bytes), null, Ct);

        var copy = await store.CopyAsync(new ObjectRef(bucket, "big.bin"), bucket, "copy/big.bin", Ct);

        Assert.Equal(bytes.Length, copy.Size);
        Assert.EndsWith("-3", copy.ETag, StringComparison.Ordinal);
        Assert.Equal(Sha256(bytes), Sha256(await store.ReadAllAsync(copy.Ref)));
        var info = await store.HeadAsync(copy.Ref, Ct);
        Assert.Equal("application/x-test", info.ContentType);
        Assert.Equal("1", info.Metadata["m"]);
    }

    [Fact]
    public async Task Copy_of_a_missing_object_says_not_found()
    {
        var (_, store, bucket) = await BucketAsync();
        var missing = new ObjectRef(bucket, "nope");
        var ex = await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.CopyAsync(missing, bucket, "dst", Ct));
        Assert.Equal(missing, ex.Object);
    }

    [Fact]
    public async Task Delete_removes_the_object_and_deleting_again_is_fine()
    {
        var (_, store, bucket) = await BucketAsync();
        var put = await store.PutBytesAsync(bucket, "gone.txt", [1, 2, 3]);
        await store.DeleteAsync(put.Ref, Ct);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(put.Ref, Ct));
        await store.DeleteAsync(put.Ref, Ct);
        await store.DeleteAsync(new ObjectRef(bucket, "never-existed"), Ct);
    }

    [Fact]
    public async Task Deleting_one_version_leaves_the_others()
    {
        var (_, store, bucket) = await BucketAsync(versioned: true);
        var v1 = await store.PutBytesAsync(bucket, "k", "1"u8.ToArray());
        var v2 = await store.PutBytesAsync(bucket, "k", "2"u8.ToArray());

        await store.DeleteAsync(v2.Ref, Ct);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(v2.Ref, Ct));
        Assert.Equal("1", Encoding.UTF8.GetString(await store.ReadAllAsync(new ObjectRef(bucket, "k"))));
        Assert.Equal(v1.VersionId, (await store.HeadAsync(new ObjectRef(bucket, "k"), Ct)).VersionId);

        // Deleting without a version leaves a delete marker: the key is gone, its old version stays readable.
        await store.DeleteAsync(new ObjectRef(bucket, "k"), Ct);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(new ObjectRef(bucket, "k"), Ct));
        Assert.Equal("1", Encoding.UTF8.GetString(await store.ReadAllAsync(v1.Ref)));
    }

    [Fact]
    public async Task Presigned_url_downloads_the_bytes_with_a_plain_http_client()
    {
        var (server, store, bucket) = await BucketAsync(versioned: true);
        var bytes = TestStreams.Bytes(5000, seed: 1);
        var v1 = await store.PutBytesAsync(bucket, "dir/with space+plus.bin", bytes);
        await store.PutBytesAsync(bucket, "dir/with space+plus.bin", [9, 9, 9]);

        var current = await store.GetDownloadUrlAsync(new ObjectRef(bucket, "dir/with space+plus.bin"), TimeSpan.FromMinutes(5), Ct);
        var old = await store.GetDownloadUrlAsync(v1.Ref, TimeSpan.FromMinutes(5), Ct);

        Assert.StartsWith(server.EndpointUrl, current.ToString(), StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal([9, 9, 9], await http.GetByteArrayAsync(current, Ct));
        Assert.Equal(bytes, await http.GetByteArrayAsync(old, Ct));
    }

    [Fact]
    public async Task Presigning_a_missing_object_says_not_found()
    {
        var (_, store, bucket) = await BucketAsync();
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetDownloadUrlAsync(new ObjectRef(bucket, "nope"), TimeSpan.FromMinutes(1), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetDownloadUrlAsync(new ObjectRef(bucket, "nope"), TimeSpan.FromDays(8), Ct));
    }

    [Fact]
    public async Task List_buckets_includes_a_new_bucket()
    {
        var (_, store, bucket) = await BucketAsync();
        var buckets = await store.ListBucketsAsync(Ct);
        var mine = Assert.Single(buckets, b => b.Name == bucket);
        Assert.NotNull(mine.CreatedAt);
    }

    [Fact]
    public async Task Keys_with_spaces_and_non_ascii_round_trip_through_store_and_physical_key()
    {
        var (_, store, bucket) = await BucketAsync();
        const string key = "dir/a b+ü#?.csv";
        var put = await store.PutBytesAsync(bucket, key, "ok"u8.ToArray());

        var physicalKey = store.ToPhysicalKey(put.Ref);
        Assert.Equal($"s3://{bucket}/dir/a%20b%2B%C3%BC%23%3F.csv", physicalKey);
        Assert.Equal(new ObjectRef(bucket, key), store.FromPhysicalKey(physicalKey));
        Assert.Equal("ok", Encoding.UTF8.GetString(await store.ReadAllAsync(store.FromPhysicalKey(physicalKey)!)));
        Assert.Equal([key], (await store.ListAsync(new ListRequest(bucket, "dir/"), Ct)).Objects.Select(o => o.Key));
    }

    [Fact]
    public void Physical_keys_follow_quilt3()
    {
        using var store = new S3ObjectStore(new S3StoreOptions { EndpointUrl = "http://127.0.0.1:1" });

        Assert.Equal("s3://bkt/k?versionId=abc%2Fd%2Be+f", store.ToPhysicalKey(new ObjectRef("bkt", "k", "abc/d+e f")));
        Assert.Equal(new ObjectRef("bkt", "k", "abc/d+e f"), store.FromPhysicalKey("s3://bkt/k?versionId=abc%2Fd%2Be+f"));
        Assert.Equal(new ObjectRef("bkt", "a b/c"), store.FromPhysicalKey("s3://bkt/a%20b/c"));
        Assert.Null(store.FromPhysicalKey("file:///tmp/x.csv"));
        Assert.Throws<InvalidObjectPathException>(() => store.FromPhysicalKey("s3://bkt/k?other=1"));
        Assert.Throws<InvalidObjectPathException>(() => store.FromPhysicalKey("s3:///k"));
        Assert.Equal("s3", store.Scheme);
    }

    [Fact]
    public async Task Store_built_from_options_reaches_the_server_with_the_default_credential_chain()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        using var store = new S3ObjectStore(server.StoreOptions);

        await store.PutBytesAsync(bucket, "x", [1, 2]);
        Assert.Equal([1, 2], await store.ReadAllAsync(new ObjectRef(bucket, "x")));
        var url = await store.GetDownloadUrlAsync(new ObjectRef(bucket, "x"), TimeSpan.FromMinutes(1), Ct);
        Assert.Equal(Uri.UriSchemeHttp, url.Scheme);

        // No endpoint in the options: AWS_ENDPOINT_URL_S3 (set for the test process) is used, path-style.
        using var fromEnvironment = new S3ObjectStore(new S3StoreOptions());
        Assert.Equal([1, 2], await fromEnvironment.ReadAllAsync(new ObjectRef(bucket, "x")));
    }
}
