using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Services;
using Quilt.Registry;
using Quilt.Search;
using Quilt.Search.Tests;
using CorpusModel = Quilt.Search.Tests.SearchCorpus;

namespace Quilt.Gateway.Tests;

/// <summary>
/// The embedded index's corpus (Quilt.Search.Tests' SearchCorpus: 220 packages in 294 revisions and 5,000
/// objects, with the model the expected hits are computed from), written once into a bucket of the shared S3 server
/// (manifests and pointers as quilt3 lays them out) with unicode-keyed objects beside it, and found by each engine's
/// gateway through its reconciliation scan, the path by which it learns what was written behind its back.
/// </summary>
public static class ScaleCorpusData
{
    /// <summary>Unicode keys beside the corpus, each with its own word (CJK, accented) in its text.</summary>
    public static readonly (string Key, string Word)[] UnicodeObjects =
        [.. Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? ($"intl/données-{i:D2}/été-✓-{i:D2}.txt", "réglé") : ($"intl/数据-{i:D2}/报告-{i:D2}.md", "气候"))];

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (string Bucket, CorpusModel Corpus)? _written;

    /// <summary>The bucket and its model, written at the first call (both engines read the same bucket).</summary>
    public static async Task<(string Bucket, CorpusModel Corpus)> GetAsync(GatewayFixture shared)
    {
        await Gate.WaitAsync();
        try
        {
            if (_written is { } written)
                return written;
            var bucket = await shared.S3.CreateBucketAsync();
            var corpus = await CorpusModel.WriteAsync(shared.S3.CreateStore(), bucket, CancellationToken.None);
            await Parallel.ForEachAsync(UnicodeObjects, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (o, _) =>
                await shared.PutAsync(bucket, o.Key, Encoding.UTF8.GetBytes($"{o.Word} measured at {o.Key}")));
            _written = (bucket, corpus);
            return _written.Value;
        }
        finally
        {
            Gate.Release();
        }
    }
}

/// <summary>A gateway over the scale corpus, its index filled by one reconciliation scan; the engine is the subclass's.</summary>
public abstract class ScaleCorpus(GatewayFixture shared) : IAsyncLifetime
{
    public GatewayFixture Shared { get; } = shared;
    public string Bucket { get; private set; } = "";
    public CorpusModel Corpus { get; private set; } = null!;
    public GatewayInstance Gateway { get; private set; } = null!;

    protected abstract Task ConfigureEngineAsync(GatewayOptions options);

    public async ValueTask InitializeAsync()
    {
        (Bucket, Corpus) = await ScaleCorpusData.GetAsync(Shared);
        Gateway = await GatewayInstance.StartAsync(Shared, options =>
        {
            options.Roles.Clear();
            options.Users.Clear();
            options.Roles["reader"] = new RoleOptions { Grants = [new GrantOptions { Bucket = Bucket, Prefix = "", Read = true }] };
            // Only one topic's objects; the registry folder (.quilt/) is outside the grant, so no package either.
            options.Roles["genome-only"] = new RoleOptions { Grants = [new GrantOptions { Bucket = Bucket, Prefix = "raw/genome/", Read = true }] };
            options.Search.ReconcileAtStart = false;
            options.Search.ReconcileIntervalSeconds = 0;
            ConfigureEngineAsync(options).GetAwaiter().GetResult();
        });
        await Gateway.Services.GetRequiredService<SearchReconciler>().RunOnceAsync(CancellationToken.None);
    }

    /// <summary>Quilt's client in registry mode, over HTTP with a JWT for the role.</summary>
    public RegistrySearchService Client(string role) =>
        new(new RegistryApiClient(Shared.Http, Gateway.BaseUrl, new FixedRegistryToken(Shared.Tokens.Hs256($"scale-{role}", role))));

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
            await Gateway.DisposeAsync();
    }
}

public sealed class SqliteScaleCorpus(GatewayFixture shared) : ScaleCorpus(shared)
{
    protected override Task ConfigureEngineAsync(GatewayOptions options) => Task.CompletedTask;
}

public sealed class PostgresScaleCorpus(GatewayFixture shared) : ScaleCorpus(shared)
{
    protected override async Task ConfigureEngineAsync(GatewayOptions options) =>
        options.Audit.Postgres = await PostgresServer.CreateDatabaseAsync(CancellationToken.None);
}

/// <summary>Queries whose hits the corpus model says, asked as Quilt's registry client asks them; the same body on both engines.</summary>
public abstract class GatewayScaleSearchTests<TCorpus>(TCorpus fixture) where TCorpus : ScaleCorpus
{
    private CorpusModel Corpus => fixture.Corpus;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<List<PackageHit>> AllPackagesAsync(RegistrySearchService client, PackageSearchRequest request) =>
        AllAsync(async () =>
        {
            var results = await client.SearchPackagesAsync(request with { Size = 200 }, Ct);
            return (results.Total, results.FirstPage);
        }, cursor => client.MorePackagesAsync(cursor, 200, Ct));

    private static Task<List<ObjectHit>> AllObjectsAsync(RegistrySearchService client, ObjectSearchRequest request) =>
        AllAsync(async () =>
        {
            var results = await client.SearchObjectsAsync(request with { Size = 1000 }, Ct);
            return (results.Total, results.FirstPage);
        }, cursor => client.MoreObjectsAsync(cursor, 1000, Ct));

    /// <summary>Every hit of a search, its cursors followed to the end; as many as its total says.</summary>
    private static async Task<List<THit>> AllAsync<THit>(Func<Task<(long Total, SearchPage<THit> Page)>> search, Func<string, Task<SearchPage<THit>>> more)
    {
        var (total, first) = await search();
        var hits = first.Hits.ToList();
        for (var cursor = first.Cursor; cursor is not null;)
        {
            var page = await more(cursor);
            hits.AddRange(page.Hits);
            cursor = page.Cursor;
        }
        Assert.Equal(total, hits.Count);
        return hits;
    }

    private static string[] Hashes(IEnumerable<CorpusRevision> revisions) => [.. revisions.Select(r => r.Hash).Order(StringComparer.Ordinal)];

    private static string[] Hashes(IEnumerable<PackageHit> hits) => [.. hits.Select(h => h.Hash).Order(StringComparer.Ordinal)];

    private static string[] Keys(IEnumerable<string> keys) => [.. keys.Order(StringComparer.Ordinal)];

    private static string[] Keys(IEnumerable<ObjectHit> hits) => [.. hits.Select(h => h.Key).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task The_scan_indexed_every_revision_and_object_and_pages_give_each_once()
    {
        Assert.True(CorpusModel.PackageCount >= 200 && CorpusModel.ObjectCount >= 5000);
        var client = fixture.Client("reader");
        var revisions = await AllPackagesAsync(client, new PackageSearchRequest([], Order: SearchOrder.Newest));
        Assert.Equal(Hashes(Corpus.Revisions), Hashes(revisions));
        Assert.Equal(revisions.Count, revisions.Select(h => h.Id).Distinct().Count());
        Assert.Equal(revisions.OrderByDescending(h => h.Modified).Select(h => h.Id), revisions.Select(h => h.Id));
        Assert.All(revisions, h => Assert.Equal(Corpus.Revisions.Single(r => r.Hash == h.Hash).Latest, h.Pointer == "latest"));

        var objects = await AllObjectsAsync(client, new ObjectSearchRequest([], Order: SearchOrder.LexAsc));
        Assert.Equal(Keys(Corpus.Objects.Select(o => o.Key).Concat(ScaleCorpusData.UnicodeObjects.Select(o => o.Key))), Keys(objects));
        Assert.Equal(objects.Count, objects.Select(h => h.Id).Distinct().Count());
    }

    [Fact]
    public async Task Words_fields_and_negation_find_exactly_the_expected_revisions()
    {
        var client = fixture.Client("reader");
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Topic == "survey")), Hashes(await AllPackagesAsync(client, new PackageSearchRequest([], "survey"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Team == "gamma" && r.Latest)),
            Hashes(await AllPackagesAsync(client, new PackageSearchRequest([], "name:gamma -comment:draft"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Message.Contains("über Zürich", StringComparison.Ordinal) && r.Topic != "imaging")),
            Hashes(await AllPackagesAsync(client, new PackageSearchRequest([], "\"ÜBER zürich\" NOT name:imaging"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Latest && (r.Team == "delta" || r.Topic == "imaging"))),
            Hashes(await AllPackagesAsync(client, new PackageSearchRequest([], "name:delta OR name:imag*", LatestOnly: true))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Workflow == "raw" && r.Topic == "atlas")),
            Hashes(await AllPackagesAsync(client, new PackageSearchRequest([], "workflow:raw atlas"))));
        var reviewed = await AllPackagesAsync(client, new PackageSearchRequest([], "entry:ana name:alpha"));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Number % 5 == 0 && r.Team == "alpha")), Hashes(reviewed));
        Assert.NotEmpty(reviewed);
        Assert.All(reviewed, hit => Assert.Contains(hit.MatchingEntries, e => e.LogicalKey == "README.md"));
    }

    [Fact]
    public async Task Typed_metadata_predicates_filters_and_facets_match_the_model()
    {
        var client = fixture.Client("reader");
        var after = CorpusModel.Epoch.AddDays(100);
        var before = CorpusModel.Epoch.AddDays(200);
        var hits = await AllPackagesAsync(client, new PackageSearchRequest([],
            Filter: new PackageSearchFilter(Workflow: new KeywordMatch(["raw"])),
            UserMetaFilters:
            [
                new UserMetaPredicate("/experiment/temperature", MetaFieldType.Number, Number: new NumberRange(25, 35)),
                new UserMetaPredicate("/experiment/date", MetaFieldType.Datetime, Datetime: new DateRange(after, before)),
                new UserMetaPredicate("/experiment/lab", MetaFieldType.Keyword, Keyword: new KeywordMatch(["south"])),
                new UserMetaPredicate("/approved", MetaFieldType.Boolean, Boolean: new BooleanMatch(False: true)),
            ]));
        var expected = Corpus.Revisions.Where(r => r.Workflow == "raw" && r.Temperature is >= 25 and <= 35
            && r.Date >= after && r.Date <= before && r.Lab == "south" && r.Number % 2 == 1).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(Hashes(expected), Hashes(hits));
        var named = await AllPackagesAsync(client, new PackageSearchRequest([], Filter: new PackageSearchFilter(Name: new KeywordMatch(Wildcard: "delta/*-0?7"))));
        Assert.Equal(Hashes(Corpus.Revisions.Where(r => r.Team == "delta" && r.Number < 100 && r.Number % 10 == 7)), Hashes(named));

        // The facets describe the hits: here one topic's revisions.
        var genome = Corpus.Revisions.Where(r => r.Topic == "genome").ToList();
        var stats = (await client.SearchPackagesAsync(new PackageSearchRequest([], "genome", Size: 1), Ct)).Stats;
        Assert.Equal(new NumberExtents(genome.Min(r => r.Temperature), genome.Max(r => r.Temperature)),
            Assert.Single(stats.UserMeta, f => f.Path == "/experiment/temperature").Number);
        Assert.Equal(new DateExtents(genome.Min(r => r.Date), genome.Max(r => r.Date)), Assert.Single(stats.UserMeta, f => f.Path == "/experiment/date").Datetime);
        Assert.Equal(genome.Select(r => r.Lab).Distinct().Order(StringComparer.Ordinal),
            Assert.Single(stats.UserMeta, f => f.Path == "/experiment/lab").Keywords!.Order(StringComparer.Ordinal));
        Assert.Equal(MetaFieldType.Boolean, Assert.Single(stats.UserMeta, f => f.Path == "/approved").Type);
    }

    [Fact]
    public async Task Objects_are_found_by_text_key_extension_and_unicode_words()
    {
        var client = fixture.Client("reader");
        Assert.Equal(Keys(Corpus.Objects.Where(o => o.Word == "crimson").Select(o => o.Key)), Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], "crimson"))));
        Assert.Equal(Keys(Corpus.Objects.Where(o => o.Word == "teal" && o.Ext == ".json").Select(o => o.Key)),
            Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], "content:teal", Filter: new ObjectSearchFilter(Ext: new KeywordMatch([".json"]))))));
        Assert.Equal(Keys(Corpus.Objects.Where(o => o.Ext == ".parquet").Select(o => o.Key)),
            Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], Filter: new ObjectSearchFilter(Ext: new KeywordMatch([".parquet"]))))));
        Assert.Equal(Keys(Corpus.Objects.Where(o => o.Key.StartsWith("raw/atlas/00", StringComparison.Ordinal)).Select(o => o.Key)),
            Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], Filter: new ObjectSearchFilter(Key: new KeywordMatch(Wildcard: "raw/atlas/00*"))))));
        Assert.Equal(Keys(ScaleCorpusData.UnicodeObjects.Where(o => o.Word == "réglé").Select(o => o.Key)),
            Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], "REGLE ete"))));
        Assert.Equal(Keys(ScaleCorpusData.UnicodeObjects.Where(o => o.Word == "气候").Select(o => o.Key)),
            Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], "气候 key:数据*"))));
        Assert.Equal(Keys(ScaleCorpusData.UnicodeObjects.Where(o => o.Key.StartsWith("intl/données-", StringComparison.Ordinal)).Select(o => o.Key)),
            Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], Filter: new ObjectSearchFilter(Key: new KeywordMatch(Wildcard: "intl/données-*"))))));
    }

    [Fact]
    public async Task A_role_granted_one_prefix_sees_only_its_objects_and_no_packages()
    {
        var client = fixture.Client("genome-only");
        var genome = Corpus.Objects.Where(o => o.Key.StartsWith("raw/genome/", StringComparison.Ordinal)).ToList();
        var everything = await AllObjectsAsync(client, new ObjectSearchRequest([]));
        Assert.Equal(Keys(genome.Select(o => o.Key)), Keys(everything));
        Assert.Equal(Keys(genome.Where(o => o.Word == "crimson").Select(o => o.Key)), Keys(await AllObjectsAsync(client, new ObjectSearchRequest([], "crimson"))));
        var stats = (await client.SearchObjectsAsync(new ObjectSearchRequest([], Size: 1), Ct)).Stats;
        Assert.Equal(new NumberExtents(genome.Min(o => o.Size), genome.Max(o => o.Size)), stats.Size);
        Assert.Empty(await AllObjectsAsync(client, new ObjectSearchRequest([], "气候")));
        Assert.Equal(0, (await client.SearchPackagesAsync(new PackageSearchRequest([], "genome"), Ct)).Total);
    }
}

public sealed class SqliteGatewayScaleSearchTests(SqliteScaleCorpus fixture)
    : GatewayScaleSearchTests<SqliteScaleCorpus>(fixture), IClassFixture<SqliteScaleCorpus>;

public sealed class PostgresGatewayScaleSearchTests(PostgresScaleCorpus fixture)
    : GatewayScaleSearchTests<PostgresScaleCorpus>(fixture), IClassFixture<PostgresScaleCorpus>;
