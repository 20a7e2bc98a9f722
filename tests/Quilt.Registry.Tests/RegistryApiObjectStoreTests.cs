using System.Security.Cryptography;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>Reading through the registry (the real gateway in front of the real S3 server) with only a JWT.</summary>
public sealed class RegistryApiObjectStoreTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lists_the_buckets_the_role_may_use()
    {
        var buckets = await fx.Store("reader").ListBucketsAsync(Ct);
        Assert.Contains(buckets, b => b.Name == fx.Data);
    }

    [Fact]
    public async Task Lists_a_prefix_with_folders_and_pages()
    {
        var prefix = $"list-{Guid.NewGuid():N}/";
        await fx.PutRawAsync(prefix + "a.csv", [1, 2, 3]);
        await fx.PutRawAsync(prefix + "b.csv", [4]);
        await fx.PutRawAsync(prefix + "c.txt", [5, 6]);
        await fx.PutRawAsync(prefix + "sub/d.bin", [7]);
        var store = fx.Store("reader");

        var folders = await store.ListAsync(new ListRequest(fx.Data, prefix, "/"), Ct);
        Assert.Equal([prefix + "a.csv", prefix + "b.csv", prefix + "c.txt"], folders.Objects.Select(o => o.Key));
        Assert.Equal([prefix + "sub/"], folders.CommonPrefixes);
        Assert.Equal(3, folders.Objects[0].Size);

        // No delimiter: every key, two per page.
        var keys = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await store.ListAsync(new ListRequest(fx.Data, prefix, null, 2, cursor), Ct);
            keys.AddRange(page.Objects.Select(o => o.Key));
            cursor = page.NextContinuationToken;
            pages++;
        }
        while (cursor is not null);
        Assert.Equal(4, keys.Count);
        Assert.Contains(prefix + "sub/d.bin", keys);
        Assert.True(pages >= 2);
    }

    [Fact]
    public async Task Head_reports_size_type_and_metadata()
    {
        var key = $"info-{Guid.NewGuid():N}/table.csv";
        var version = await fx.PutRawAsync(key, "a,b\n1,2\n"u8.ToArray(), "text/csv", new() { ["origin"] = "lab" });
        var info = await fx.Store("reader").HeadAsync(new ObjectRef(fx.Data, key), Ct);
        Assert.Equal(8, info.Size);
        Assert.Equal("text/csv", info.ContentType);
        Assert.Equal("lab", info.Metadata["origin"]);
        Assert.Equal(version, info.VersionId);
        Assert.NotNull(info.ETag);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => fx.Store("reader").HeadAsync(new ObjectRef(fx.Data, key + ".missing"), Ct));
    }

    [Fact]
    public async Task Reads_whole_objects_ranges_and_old_versions()
    {
        var key = $"read-{Guid.NewGuid():N}/data.bin";
        var bytes = TestStreams.Bytes(300_000, 3);
        var first = await fx.PutRawAsync(key, bytes);
        await fx.PutRawAsync(key, [9, 9, 9]);
        var store = fx.Store("reader");

        Assert.Equal([9, 9, 9], await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(new ObjectRef(fx.Data, key), null, Ct)));
        var old = new ObjectRef(fx.Data, key, first);
        Assert.Equal(bytes, await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(old, null, Ct)));
        Assert.Equal(bytes[1000..1100], await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(old, new ByteRange(1000, 100), Ct)));
        Assert.Equal(bytes[299_990..], await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(old, new ByteRange(299_990, null), Ct)));
        Assert.Empty(await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(old, new ByteRange(400_000, 10), Ct)));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync(new ObjectRef(fx.Data, key + ".missing"), null, Ct));
    }

    [Fact]
    public async Task A_role_limited_to_one_prefix_reads_there_and_nowhere_else()
    {
        var key = $"limited/{Guid.NewGuid():N}.txt";
        await fx.PutRawAsync(key, "inside"u8.ToArray());
        var outside = $"open-{Guid.NewGuid():N}.txt";
        await fx.PutRawAsync(outside, "outside"u8.ToArray());
        var store = fx.Store("limited");

        Assert.Equal("inside"u8.ToArray(), await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(new ObjectRef(fx.Data, key), null, Ct)));
        var denied = await Assert.ThrowsAsync<AccessDeniedException>(() => store.OpenReadAsync(new ObjectRef(fx.Data, outside), null, Ct));
        Assert.Contains(outside, denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_download_link_works_without_a_token()
    {
        var key = $"link-{Guid.NewGuid():N}/report.txt";
        var bytes = TestStreams.Bytes(50_000, 7);
        await fx.PutRawAsync(key, bytes);
        var url = await fx.Store("reader").GetDownloadUrlAsync(new ObjectRef(fx.Data, key), TimeSpan.FromMinutes(5), Ct);

        using var plain = new HttpClient();
        Assert.Equal(bytes, await plain.GetByteArrayAsync(url, Ct));
        Assert.DoesNotContain("Bearer", url.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_longer_than_the_registry_allows_is_refused_clearly()
    {
        var ex = await Assert.ThrowsAsync<StorageException>(() =>
            fx.Store("reader").GetDownloadUrlAsync(new ObjectRef(fx.Data, "any.txt"), TimeSpan.FromHours(2), Ct));
        Assert.Contains("at most 900 seconds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Copy_and_delete_say_what_to_do_instead()
    {
        var store = fx.Store("writer");
        var copy = await Assert.ThrowsAsync<StorageException>(() => store.CopyAsync(new ObjectRef(fx.Data, "a"), fx.Data, "b", Ct));
        Assert.Contains("no copy operation", copy.Message, StringComparison.Ordinal);
        var delete = await Assert.ThrowsAsync<StorageException>(() => store.DeleteAsync(new ObjectRef(fx.Data, "a"), Ct));
        Assert.Contains("aws s3 rm", delete.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_or_missing_token_is_a_clear_authentication_error()
    {
        var token = fx.Token("reader", TimeSpan.FromMinutes(-5));
        var expired = fx.StoreWithToken(token);
        var ex = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => expired.ListBucketsAsync(Ct));
        Assert.Contains("Get a new Quilt token", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(token, ex.ToString(), StringComparison.Ordinal);

        var none = new RegistryApiObjectStore(new RegistryApiClient(fx.Http, fx.Gateway, new AmbientRegistryToken()));
        await Assert.ThrowsAsync<RegistryAuthenticationException>(() => none.ListBucketsAsync(Ct));
    }

    [Fact]
    public async Task Each_caller_reads_with_their_own_token()
    {
        // One store serving two users (the HTTP server's pass-through): each request carries its caller's own rights.
        var key = $"open-{Guid.NewGuid():N}.txt";
        await fx.PutRawAsync(key, "x"u8.ToArray());
        var store = new RegistryApiObjectStore(new RegistryApiClient(fx.Http, fx.Gateway, new AmbientRegistryToken()));
        using (AmbientRegistryToken.Use(fx.Token("reader")))
            Assert.Equal("x"u8.ToArray(), await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(new ObjectRef(fx.Data, key), null, Ct)));
        using (AmbientRegistryToken.Use(fx.Token("limited")))
            await Assert.ThrowsAsync<AccessDeniedException>(() => store.OpenReadAsync(new ObjectRef(fx.Data, key), null, Ct));
    }

    /// <summary>The system clock moved ahead by <see cref="Ahead"/>: the store's view of time, not the gateway's.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Ahead { get; set; }
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Ahead;
    }

    [Fact]
    public async Task One_browsing_session_serves_a_folder_and_is_refreshed_before_it_expires()
    {
        var folder = $"session-{Guid.NewGuid():N}/";
        await fx.PutRawAsync(folder + "a.txt", "a"u8.ToArray());
        await fx.PutRawAsync(folder + "b.txt", "b"u8.ToArray());
        var subject = $"sess-{Guid.NewGuid():N}"[..17];
        var time = new ShiftedTime();
        var options = new RegistryStoreOptions { SessionLifetime = TimeSpan.FromMinutes(10), SessionRefreshMargin = TimeSpan.FromMinutes(2) };
        var store = new RegistryApiObjectStore(new RegistryApiClient(fx.Http, fx.Gateway, new FixedRegistryToken(fx.Token("reader", subject))), options, time);

        Assert.Equal("a"u8.ToArray(), await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(new ObjectRef(fx.Data, folder + "a.txt"), null, Ct)));
        Assert.Equal("b"u8.ToArray(), await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(new ObjectRef(fx.Data, folder + "b.txt"), null, Ct)));
        Assert.Equal(1, (await fx.AuditedActionsAsync(subject)).Count(a => a == "browsingSessionCreate"));

        // Nine minutes on (less than the two-minute margin left): the next read refreshes the same session first.
        time.Ahead = TimeSpan.FromMinutes(9);
        Assert.Equal("a"u8.ToArray(), await RegistryFixture.ReadAllAsync(await store.OpenReadAsync(new ObjectRef(fx.Data, folder + "a.txt"), null, Ct)));
        var actions = await fx.AuditedActionsAsync(subject);
        Assert.Equal(1, actions.Count(a => a == "browsingSessionCreate"));
        Assert.Equal(1, actions.Count(a => a == "browsingSessionRefresh"));
        Assert.Equal(3, actions.Count(a => a == "download"));
    }

    internal static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
