using System.Text;
using Microsoft.Data.Sqlite;
using Quilt.Core;
using Quilt.Search.Indexing;
using Quilt.Search.Sqlite;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Search.Tests;

/// <summary>A refresh sees what changed in the store since the last one, and only that; on the local folder and on S3.</summary>
public sealed class IncrementalRefreshTests : IDisposable
{
    private readonly TempDirectory _dir = new("search-refresh");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(IObjectStore, string)> StoreAsync(string kind)
    {
        if (kind == "local")
        {
            Directory.CreateDirectory(_dir.Combine("root", "bucket"));
            return (new LocalFolderStore(_dir.Combine("root")), "bucket");
        }
        var server = await S3TestServer.GetAsync();
        return (server.CreateStore(), await server.CreateBucketAsync(cancellationToken: Ct));
    }

    private static async Task PutAsync(IObjectStore store, string bucket, string key, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        using var stream = new MemoryStream(bytes);
        await store.PutAsync(new PutRequest(bucket, key) { Length = bytes.Length }, stream, null, Ct);
    }

    private static string Entry(string key) => CraftedPackages.EntryLine(key, "s3://elsewhere/" + key, 3, "SHA256", new string('a', 64));

    [Theory]
    [InlineData("local")]
    [InlineData("s3")]
    public async Task A_refresh_sees_new_revisions_objects_and_deletions(string kind)
    {
        var (store, bucket) = await StoreAsync(kind);
        var first = await CraftedPackages.PublishAsync(store, bucket, "team/keep", [Entry("one.csv")], Ct);
        var doomed = await CraftedPackages.PublishAsync(store, bucket, "team/doomed", [Entry("gone.csv")], Ct);
        await PutAsync(store, bucket, "notes/a.md", "marmalade recipe");
        await PutAsync(store, bucket, "notes/b.md", "kumquat notes");
        var index = await SqliteSearchIndex.OpenAsync(_dir.Combine("index.db"), Ct);
        var indexer = new StoreIndexer(index, store);
        var scope = SearchScope.Whole([bucket]);
        await indexer.RefreshAsync(bucket, null, Ct);
        Assert.Equal(2, (await index.SearchPackagesAsync(new PackageSearchRequest([], LatestOnly: true), scope, Ct)).Total);

        // A new revision of one package (pointer one second later), a package deleted, an object changed, one deleted, one added.
        var second = await CraftedPackages.PublishAsync(store, bucket, "team/keep", [Entry("one.csv"), Entry("two.csv")], Ct);
        Assert.NotEqual(first, second);
        // Both may have been published in the same second (one pointer file): name the first by an older timestamp too.
        await PutAsync(store, bucket, RegistryLayout.PointerKey("team/keep", "1700000000"), first);
        foreach (var key in await ListAsync(store, bucket, RegistryLayout.PointersPrefix("team/doomed")))
            await store.DeleteAsync(new ObjectRef(bucket, key), Ct);
        await PutAsync(store, bucket, "notes/a.md", "quince jam, no marmalade left");
        await store.DeleteAsync(new ObjectRef(bucket, "notes/b.md"), Ct);
        await PutAsync(store, bucket, "notes/c.txt", "persimmon");

        var refresh = await indexer.RefreshAsync(bucket, null, Ct);
        Assert.Equal(1, refresh.RevisionsAdded);
        Assert.Equal(1, refresh.RevisionsRemoved);
        Assert.Equal(2, refresh.ObjectsAdded); // a.md changed, c.txt new
        Assert.Equal(1, refresh.ObjectsRemoved);

        var latest = await index.SearchPackagesAsync(new PackageSearchRequest([], LatestOnly: true), scope, Ct);
        Assert.Equal(second, Assert.Single(latest.FirstPage.Hits).Hash);
        var all = await index.SearchPackagesAsync(new PackageSearchRequest([]), scope, Ct);
        Assert.Equal([first, second], all.FirstPage.Hits.Select(h => h.Hash).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(all.FirstPage.Hits, h => h.Hash == doomed && h.Name == "team/doomed");
        Assert.Equal(["notes/a.md"], (await index.SearchObjectsAsync(new ObjectSearchRequest([], "quince"), scope, Ct)).FirstPage.Hits.Select(h => h.Key));
        Assert.Equal(0, (await index.SearchObjectsAsync(new ObjectSearchRequest([], "kumquat"), scope, Ct)).Total);
        Assert.Equal(0, (await index.SearchObjectsAsync(new ObjectSearchRequest([], "marmalade recipe"), scope, Ct)).Total);
        Assert.Equal(1, (await index.SearchObjectsAsync(new ObjectSearchRequest([], "persimmon"), scope, Ct)).Total);
    }

    [Fact]
    public async Task Two_servers_on_one_index_file_refresh_once_and_both_see_it()
    {
        var (store, bucket) = await StoreAsync("local");
        await CraftedPackages.PublishAsync(store, bucket, "team/shared", [Entry("one.csv")], Ct);
        for (var i = 0; i < 50; i++)
            await PutAsync(store, bucket, $"data/{i}.txt", "apricot " + i);
        var path = _dir.Combine("shared.db");
        var one = new StoreIndexer(await SqliteSearchIndex.OpenAsync(path, Ct), store);
        var two = new StoreIndexer(await SqliteSearchIndex.OpenAsync(path, Ct), store);
        var results = await Task.WhenAll(
            one.RefreshIfStaleAsync(bucket, TimeSpan.FromMinutes(5), null, Ct),
            two.RefreshIfStaleAsync(bucket, TimeSpan.FromMinutes(5), null, Ct));
        Assert.Single(results, r => r is not null);
        var scope = SearchScope.Whole([bucket]);
        Assert.Equal(50, (await one.Index.SearchObjectsAsync(new ObjectSearchRequest([], "apricot"), scope, Ct)).Total);
        Assert.Equal(50, (await two.Index.SearchObjectsAsync(new ObjectSearchRequest([], "apricot"), scope, Ct)).Total);
    }

    [Fact]
    public async Task A_garbage_index_file_is_rebuilt_from_the_store()
    {
        var (store, bucket) = await StoreAsync("local");
        await PutAsync(store, bucket, "data/x.txt", "nectarine");
        var path = _dir.Combine("garbage.db");
        var index = await SqliteSearchIndex.OpenAsync(path, Ct);
        await new StoreIndexer(index, store).RefreshAsync(bucket, null, Ct);
        SqliteConnection.ClearAllPools();
        await File.WriteAllBytesAsync(path, Encoding.ASCII.GetBytes(new string('#', 8192)), Ct);
        File.Delete(path + "-wal");
        File.Delete(path + "-shm");

        var reopened = await SqliteSearchIndex.OpenAsync(path, Ct);
        Assert.True(reopened.Rebuilt);
        var service = new EmbeddedSearchService(new StoreIndexer(reopened, store), (_, _) => Task.FromResult<IReadOnlyList<string>>([bucket]), TimeSpan.FromMinutes(5));
        Assert.Equal(1, (await service.SearchObjectsAsync(new ObjectSearchRequest([], "nectarine"), Ct)).Total);
    }

    private static async Task<List<string>> ListAsync(IObjectStore store, string bucket, string prefix)
    {
        var page = await store.ListAsync(new ListRequest(bucket, prefix), Ct);
        return [.. page.Objects.Select(o => o.Key)];
    }
}
