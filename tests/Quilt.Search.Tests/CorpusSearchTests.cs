using Microsoft.Data.Sqlite;
using Quilt.Search.Indexing;
using Quilt.Search.Sqlite;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Search.Tests;

/// <summary>The corpus written once into a store, indexed once by the indexer (the way the server indexes on first use).</summary>
public abstract class CorpusFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("search-corpus");

    public IObjectStore Store { get; private set; } = null!;

    public string Bucket { get; private set; } = null!;

    public SearchCorpus Corpus { get; private set; } = null!;

    public SqliteSearchIndex Index { get; private set; } = null!;

    public IndexRefresh FirstRefresh { get; private set; } = null!;

    public SearchScope Scope => SearchScope.Whole([Bucket]);

    protected abstract Task<(IObjectStore Store, string Bucket)> OpenStoreAsync(TempDirectory dir);

    public async ValueTask InitializeAsync()
    {
        (Store, Bucket) = await OpenStoreAsync(_dir);
        Corpus = await SearchCorpus.WriteAsync(Store, Bucket, CancellationToken.None);
        Index = await SqliteSearchIndex.OpenAsync(_dir.Combine("index", "search.db"), CancellationToken.None);
        var progress = new RecordingIndexProgress();
        FirstRefresh = await new StoreIndexer(Index, Store).RefreshAsync(Bucket, progress, CancellationToken.None);
        ProgressReports = progress.Count;
    }

    public int ProgressReports { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await Index.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class RecordingIndexProgress : IProgress<IndexingProgress>
    {
        public int Count { get; private set; }

        public void Report(IndexingProgress value) => Count++;
    }
}

public sealed class LocalCorpusFixture : CorpusFixture
{
    protected override Task<(IObjectStore Store, string Bucket)> OpenStoreAsync(TempDirectory dir)
    {
        Directory.CreateDirectory(dir.Combine("root", "corpus"));
        return Task.FromResult<(IObjectStore, string)>((new LocalFolderStore(dir.Combine("root")), "corpus"));
    }
}

public sealed class S3CorpusFixture : CorpusFixture
{
    protected override async Task<(IObjectStore Store, string Bucket)> OpenStoreAsync(TempDirectory dir)
    {
        var server = await S3TestServer.GetAsync();
        return (server.CreateStore(), await server.CreateBucketAsync());
    }
}

/// <summary>Queries over the corpus whose hits the corpus model says; the same facts on the local folder and on S3.</summary>
public abstract class CorpusSearchTests(CorpusFixture fixture)
{
    private SearchCorpus Corpus => fixture.Corpus;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<List<PackageHit>> AllPackagesAsync(PackageSearchRequest request)
    {
        var first = await fixture.Index.SearchPackagesAsync(request, fixture.Scope, Ct);
        var hits = first.FirstPage.Hits.ToList();
        var cursor = first.FirstPage.Cursor;
        while (cursor is not null)
        {
            var page = await fixture.Index.MorePackagesAsync(cursor, 41, fixture.Scope, Ct);
            hits.AddRange(page.Hits);
            cursor = page.Cursor;
        }
        Assert.Equal(first.Total, hits.Count);
        return hits;
    }

    private async Task<List<ObjectHit>> AllObjectsAsync(ObjectSearchRequest request)
    {
        var first = await fixture.Index.SearchObjectsAsync(request, fixture.Scope, Ct);
        var hits = first.FirstPage.Hits.ToList();
        var cursor = first.FirstPage.Cursor;
        while (cursor is not null)
        {
            var page = await fixture.Index.MoreObjectsAsync(cursor, 500, fixture.Scope, Ct);
            hits.AddRange(page.Hits);
            cursor = page.Cursor;
        }
        Assert.Equal(first.Total, hits.Count);
        return hits;
    }

    private static string[] Hashes(IEnumerable<CorpusRevision> revisions) => [.. revisions.Select(r => r.Hash).Order(StringComparer.Ordinal)];

    private static string[] Hashes(IEnumerable<PackageHit> hits) => [.. hits.Select(h => h.Hash).Order(StringComparer.Ordinal)];

    [Fact]
    public void The_first_refresh_indexed_every_revision_and_object_reporting_progress()
    {
        Assert.True(SearchCorpus.PackageCount >= 200 && SearchCorpus.ObjectCount >= 5000);
        Assert.Equal(Corpus.Revisions.Count, fixture.FirstRefresh.RevisionsAdded);
        Assert.Equal(Corpus.Objects.Count, fixture.FirstRefresh.ObjectsAdded);
        Assert.False(fixture.FirstRefresh.ObjectsTruncated);
        Assert.True(fixture.ProgressReports > 0);
    }

    [Fact]
    public async Task Paging_through_every_revision_gives_each_once()
    {
        var hits = await AllPackagesAsync(new PackageSearchRequest([], Size: 37, Order: SearchOrder.Newest));
        Assert.Equal(Hashes(Corpus.Revisions), Hashes(hits));
        Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
        Assert.Equal(hits.OrderByDescending(h => h.Modified).Select(h => h.Id), hits.Select(h => h.Id));
    }

    [Fact]
    public async Task Words_fields_and_negation_find_exactly_the_expected_revisions()
    {
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Topic == "genome")), Hashes(await AllPackagesAsync(new PackageSearchRequest([], "genome"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Topic == "atlas" && !r.Message.Contains("Zürich", StringComparison.Ordinal))),
            Hashes(await AllPackagesAsync(new PackageSearchRequest([], "name:atlas -comment:zurich"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Latest && (r.Team == "beta" || r.Topic == "climate"))),
            Hashes(await AllPackagesAsync(new PackageSearchRequest([], "name:beta OR name:clim*", LatestOnly: true))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Message.Contains("(draft)", StringComparison.Ordinal))),
            Hashes(await AllPackagesAsync(new PackageSearchRequest([], "comment:draft"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Workflow == "curated")),
            Hashes(await AllPackagesAsync(new PackageSearchRequest([], "workflow:curated"))));

        var reviewed = await AllPackagesAsync(new PackageSearchRequest([], "entry:ana"));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Number % 5 == 0)), Hashes(reviewed));
        Assert.All(reviewed, hit => Assert.Equal("README.md", Assert.Single(hit.MatchingEntries).LogicalKey));
    }

    [Fact]
    public async Task Filters_and_typed_metadata_predicates_match_the_model()
    {
        var from = SearchCorpus.Epoch.AddDays(30);
        var to = SearchCorpus.Epoch.AddDays(90);
        var hits = await AllPackagesAsync(new PackageSearchRequest([], LatestOnly: true,
            Filter: new PackageSearchFilter(Workflow: new KeywordMatch(["curated", "raw"])),
            UserMetaFilters:
            [
                new UserMetaPredicate("/experiment/temperature", MetaFieldType.Number, Number: new NumberRange(10, 20)),
                new UserMetaPredicate("/experiment/date", MetaFieldType.Datetime, Datetime: new DateRange(from, to)),
                new UserMetaPredicate("/experiment/lab", MetaFieldType.Keyword, Keyword: new KeywordMatch(["north", "east"])),
                new UserMetaPredicate("/approved", MetaFieldType.Boolean, Boolean: new BooleanMatch(True: true)),
            ]));
        var expected = Corpus.Revisions.Where(r => r.Latest && r.Workflow is not null && r.Temperature is >= 10 and <= 20
            && r.Date >= from && r.Date <= to && r.Lab is "north" or "east" && r.Number % 2 == 0);
        Assert.NotEmpty(hits);
        Assert.Equal(Hashes(expected), Hashes(hits));

        var named = await AllPackagesAsync(new PackageSearchRequest([], Filter: new PackageSearchFilter(Name: new KeywordMatch(Wildcard: "gamma/*-1?2"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Team == "gamma" && r.Number is >= 100 and < 200 && r.Number % 10 == 2)), Hashes(named));
    }

    [Fact]
    public async Task Facets_cover_every_hit_with_types_and_extents()
    {
        var all = await fixture.Index.SearchPackagesAsync(new PackageSearchRequest([], Size: 5), fixture.Scope, Ct);
        Assert.Equal(Corpus.Revisions.Count, all.Total);
        var temperature = Assert.Single(all.Stats.UserMeta, f => f.Path == "/experiment/temperature");
        Assert.Equal(new NumberExtents(Corpus.Revisions.Min(r => r.Temperature), Corpus.Revisions.Max(r => r.Temperature)), temperature.Number);
        Assert.Equal(new DateExtents(Corpus.Revisions.Min(r => r.Date), Corpus.Revisions.Max(r => r.Date)), Assert.Single(all.Stats.UserMeta, f => f.Path == "/experiment/date").Datetime);
        Assert.Equal(SearchCorpus.Labs.Order(StringComparer.Ordinal), Assert.Single(all.Stats.UserMeta, f => f.Path == "/experiment/lab").Keywords);
        Assert.Equal(MetaFieldType.Text, Assert.Single(all.Stats.UserMeta, f => f.Path == "/note").Type);
        Assert.Equal(MetaFieldType.Boolean, Assert.Single(all.Stats.UserMeta, f => f.Path == "/approved").Type);
        Assert.Equal(Corpus.Revisions.Where(r => r.Workflow is not null).GroupBy(r => r.Workflow).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key),
            all.Stats.Workflows);

        var objects = await fixture.Index.SearchObjectsAsync(new ObjectSearchRequest([], Size: 0), fixture.Scope, Ct);
        Assert.Equal(SearchCorpus.ObjectCount, objects.Total);
        Assert.Equal(SearchCorpus.Exts.Order(StringComparer.Ordinal), objects.Stats.Extensions.Order(StringComparer.Ordinal));
        Assert.Equal(new NumberExtents(Corpus.Objects.Min(o => o.Size), Corpus.Objects.Max(o => o.Size)), objects.Stats.Size);
    }

    [Fact]
    public async Task Objects_are_found_by_text_key_and_filters_without_the_registry_folder()
    {
        var crimson = await AllObjectsAsync(new ObjectSearchRequest([], "crimson", Size: 100));
        Assert.Equal(Corpus.Objects.Where(o => o.Word == "crimson").Select(o => o.Key).Order(StringComparer.Ordinal), crimson.Select(h => h.Key).Order(StringComparer.Ordinal));
        Assert.All(crimson, hit => Assert.Contains("crimson", hit.IndexedContent, StringComparison.Ordinal));

        var atlasMarkdown = await AllObjectsAsync(new ObjectSearchRequest([], "key:atlas", new ObjectSearchFilter(Ext: new KeywordMatch([".md"])), Size: 1000, Order: SearchOrder.LexAsc));
        var expected = Corpus.Objects.Where(o => o.Key.StartsWith("raw/atlas/", StringComparison.Ordinal) && o.Ext == ".md").Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, atlasMarkdown.Select(h => h.Key));

        var wild = await AllObjectsAsync(new ObjectSearchRequest([], "teal OR jade", new ObjectSearchFilter(Key: new KeywordMatch(Wildcard: "raw/survey/*"), Size: new NumberRange(Gte: 10)), Size: 1000));
        Assert.Equal(Corpus.Objects.Where(o => o.Key.StartsWith("raw/survey/", StringComparison.Ordinal) && o.Word is "teal" or "jade" && o.Size >= 10).Select(o => o.Key).Order(StringComparer.Ordinal),
            wild.Select(h => h.Key).Order(StringComparer.Ordinal));

        Assert.Equal(0, (await fixture.Index.SearchObjectsAsync(new ObjectSearchRequest([], "key:quilt"), fixture.Scope, Ct)).Total);
        var all = await fixture.Index.SearchObjectsAsync(new ObjectSearchRequest([], "NOT ext:bin", Size: 0), fixture.Scope, Ct);
        Assert.Equal(Corpus.Objects.Count(o => o.Ext != ".bin"), all.Total);
    }

    [Fact]
    public async Task A_second_refresh_reads_nothing_new()
    {
        var again = await new StoreIndexer(fixture.Index, fixture.Store).RefreshAsync(fixture.Bucket, null, Ct);
        Assert.Equal(new IndexRefresh(fixture.Bucket, 0, 0, 0, 0, 0, false), again);
    }
}

public sealed class LocalCorpusSearchTests(LocalCorpusFixture fixture) : CorpusSearchTests(fixture), IClassFixture<LocalCorpusFixture>;

public sealed class S3CorpusSearchTests(S3CorpusFixture fixture) : CorpusSearchTests(fixture), IClassFixture<S3CorpusFixture>;
