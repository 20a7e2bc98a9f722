using System.Text.Json;
using Microsoft.Data.Sqlite;
using Quilt.Search.Sqlite;
using Quilt.Testing;

namespace Quilt.Search.Tests;

/// <summary>The SQLite FTS5 index on a small hand-made corpus whose hits are obvious; the large corpus is in SearchCorpusTests.</summary>
public sealed class SqliteSearchIndexTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("search-index");
    private SqliteSearchIndex _index = null!;
    private static readonly SearchScope Scope = SearchScope.Whole(["bucket-a", "bucket-b"]);
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public async ValueTask InitializeAsync()
    {
        _index = await SqliteSearchIndex.OpenAsync(_dir.Combine("index.db"), TestContext.Current.CancellationToken);
        await _index.UpsertPackageRevisionsAsync(
        [
            Revision("bucket-a", "cells/atlas", Hash('1'), 1, true, "First run of the Zürich cell atlas",
                """{"experiment": {"temperature": 37.5, "date": "2024-03-01", "lab": "north"}, "tags": ["rna", "atlas"]}""",
                ("data/counts.csv", null), ("README.md", """{"user_meta": {"stain": "dapi"}}""")),
            Revision("bucket-a", "cells/atlas", Hash('2'), 0, false, "Older draft", """{"experiment": {"temperature": 20}}""", ("old.txt", null)),
            Revision("bucket-a", "genome/ref", Hash('3'), 2, true, "Reference genome", """{"experiment": {"temperature": 4, "lab": "south"}}""",
                ("chr1.fa", null)),
            Revision("bucket-b", "other/thing", Hash('4'), 3, true, "Unrelated atlas of maps", null, ("maps.json", null)),
        ], TestContext.Current.CancellationToken);
        await _index.UpsertObjectsAsync(
        [
            new ObjectDocument("bucket-a", "data/counts.csv", null, 100, T0, "e1", false, "gene,count\nBRCA1,3\n"),
            new ObjectDocument("bucket-a", "notes/readme.md", null, 2000, T0.AddDays(1), "e2", false, "Ein Überblick über das Projekt"),
            new ObjectDocument("bucket-a", "private/secret.csv", null, 5, T0.AddDays(2), "e3", false, "gene,secret"),
            new ObjectDocument("bucket-b", "img/photo.PNG", null, 9000, T0.AddDays(3), "e4", false, null),
        ], TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _index.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static string Hash(char c) => new(c, 64);

    private static PackageRevisionDocument Revision(string bucket, string name, string hash, int day, bool latest, string comment, string? meta,
        params (string Key, string? Meta)[] entries) =>
        new(bucket, name, hash, (T0.AddDays(day).ToUnixTimeSeconds()).ToString(System.Globalization.CultureInfo.InvariantCulture), T0.AddDays(day), latest, comment,
            meta is null ? null : JsonDocument.Parse(meta).RootElement.Clone(), null, entries.Length * 10,
            [.. entries.Select(e => new EntryDocument(e.Key, $"s3://{bucket}/{e.Key}", 10, null, e.Meta is null ? null : JsonDocument.Parse(e.Meta).RootElement.Clone()))]);

    private Task<PackageSearchResults> Packages(PackageSearchRequest request, SearchScope? scope = null) =>
        _index.SearchPackagesAsync(request, scope ?? Scope, TestContext.Current.CancellationToken);

    private Task<ObjectSearchResults> Objects(ObjectSearchRequest request, SearchScope? scope = null) =>
        _index.SearchObjectsAsync(request, scope ?? Scope, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Words_fields_and_match_locations_find_the_right_revisions()
    {
        var atlas = await Packages(new PackageSearchRequest([], "atlas"));
        Assert.Equal(["bucket-a/cells/atlas@" + Hash('1'), "bucket-a/cells/atlas@" + Hash('2'), "bucket-b/other/thing@" + Hash('4')], atlas.FirstPage.Hits.Select(h => h.Id).Order());
        var cells = atlas.FirstPage.Hits.Single(h => h.Hash == Hash('1'));
        Assert.Equal(new PackageMatchLocations(Name: true, Comment: true, Meta: true, Workflow: false), cells.MatchLocations);
        Assert.Equal("latest", cells.Pointer);

        var byName = await Packages(new PackageSearchRequest([], "name:atlas", LatestOnly: true));
        Assert.Equal(["cells/atlas"], byName.FirstPage.Hits.Select(h => h.Name));

        // Diacritics and case do not matter; NOT alone works; a metadata path field searches that field only.
        Assert.Equal(["cells/atlas"], (await Packages(new PackageSearchRequest([], "zurich"))).FirstPage.Hits.Select(h => h.Name));
        Assert.Equal(["genome/ref", "other/thing"], (await Packages(new PackageSearchRequest([], "NOT cells"))).FirstPage.Hits.Select(h => h.Name).Order());
        Assert.Equal(["genome/ref"], (await Packages(new PackageSearchRequest([], "meta.experiment.lab:south"))).FirstPage.Hits.Select(h => h.Name));
        Assert.Equal(["cells/atlas"], (await Packages(new PackageSearchRequest([], "gen* -genome OR comment:zur*", LatestOnly: true))).FirstPage.Hits.Select(h => h.Name));
    }

    [Fact]
    public async Task Matching_entries_say_where_they_matched()
    {
        var hit = Assert.Single((await Packages(new PackageSearchRequest([], "dapi OR counts"))).FirstPage.Hits);
        Assert.Equal(["README.md", "data/counts.csv"], hit.MatchingEntries.Select(e => e.LogicalKey));
        Assert.True(hit.MatchingEntries[0].MatchLocations.Meta);
        Assert.True(hit.MatchingEntries[1].MatchLocations.LogicalKey);
    }

    [Fact]
    public async Task Latest_only_filters_predicates_and_facets()
    {
        var all = await Packages(new PackageSearchRequest(["bucket-a"]));
        Assert.Equal(3, all.Total);
        Assert.Equal(2, (await Packages(new PackageSearchRequest(["bucket-a"], LatestOnly: true))).Total);

        var warm = await Packages(new PackageSearchRequest([], UserMetaFilters: [new UserMetaPredicate("/experiment/temperature", MetaFieldType.Number, Number: new NumberRange(Gte: 10))]));
        Assert.Equal([Hash('1'), Hash('2')], warm.FirstPage.Hits.Select(h => h.Hash).Order());
        var march = await Packages(new PackageSearchRequest([], UserMetaFilters: [new UserMetaPredicate("/experiment/date", MetaFieldType.Datetime, Datetime: new DateRange(Gte: new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.Zero)))]));
        Assert.Equal([Hash('1')], march.FirstPage.Hits.Select(h => h.Hash));
        var tagged = await Packages(new PackageSearchRequest([], UserMetaFilters: [new UserMetaPredicate("/tags", MetaFieldType.Keyword, Keyword: new KeywordMatch(["rna"]))]));
        Assert.Equal([Hash('1')], tagged.FirstPage.Hits.Select(h => h.Hash));
        var named = await Packages(new PackageSearchRequest([], Filter: new PackageSearchFilter(Name: new KeywordMatch(Wildcard: "cells/*"), Comment: new TextMatch("draft"))));
        Assert.Equal([Hash('2')], named.FirstPage.Hits.Select(h => h.Hash));

        var temperature = Assert.Single(all.Stats.UserMeta, f => f.Path == "/experiment/temperature");
        Assert.Equal(new NumberExtents(4, 37.5), temperature.Number);
        var lab = Assert.Single(all.Stats.UserMeta, f => f.Path == "/experiment/lab");
        Assert.Equal(["north", "south"], lab.Keywords);
        Assert.Equal(MetaFieldType.Datetime, Assert.Single(all.Stats.UserMeta, f => f.Path == "/experiment/date").Type);
        Assert.Equal(new DateExtents(T0, T0.AddDays(2)), all.Stats.Modified);
    }

    [Fact]
    public async Task Objects_match_key_and_text_within_the_scope_only()
    {
        var gene = await Objects(new ObjectSearchRequest([], "gene"));
        Assert.Equal(["data/counts.csv", "private/secret.csv"], gene.FirstPage.Hits.Select(h => h.Key).Order());
        Assert.Equal(".csv", Assert.Single(gene.Stats.Extensions));

        // A scope limited to a prefix hides the rest from hits and totals alike.
        var limited = new SearchScope([new BucketScope("bucket-a", ["data/", "notes/"], Packages: false)]);
        var visible = await Objects(new ObjectSearchRequest([], "gene"), limited);
        Assert.Equal(1, visible.Total);
        Assert.Equal("data/counts.csv", Assert.Single(visible.FirstPage.Hits).Key);
        Assert.Equal(0, (await Packages(new PackageSearchRequest([], "atlas"), limited)).Total);

        Assert.Equal(["notes/readme.md"], (await Objects(new ObjectSearchRequest([], "uberblick"))).FirstPage.Hits.Select(h => h.Key));
        Assert.Equal(["img/photo.PNG"], (await Objects(new ObjectSearchRequest([], "ext:png"))).FirstPage.Hits.Select(h => h.Key));
        var big = await Objects(new ObjectSearchRequest([], Filter: new ObjectSearchFilter(Size: new NumberRange(Gte: 1000), Ext: new KeywordMatch(["MD"]))));
        Assert.Equal(["notes/readme.md"], big.FirstPage.Hits.Select(h => h.Key));
        Assert.StartsWith("gene,count", gene.FirstPage.Hits.Single(h => h.Key == "data/counts.csv").IndexedContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cursors_page_through_every_hit_and_refuse_other_searches()
    {
        var seen = new List<string>();
        var first = await Objects(new ObjectSearchRequest([], Size: 1, Order: SearchOrder.LexAsc));
        seen.AddRange(first.FirstPage.Hits.Select(h => h.Id));
        var cursor = first.FirstPage.Cursor;
        while (cursor is not null)
        {
            var page = await _index.MoreObjectsAsync(cursor, 1, Scope, TestContext.Current.CancellationToken);
            seen.AddRange(page.Hits.Select(h => h.Id));
            cursor = page.Cursor;
        }
        Assert.Equal(["bucket-a/data/counts.csv", "bucket-a/notes/readme.md", "bucket-a/private/secret.csv", "bucket-b/img/photo.PNG"], seen);

        var ct = TestContext.Current.CancellationToken;
        var wrongKind = await Assert.ThrowsAsync<SearchQueryException>(() => _index.MorePackagesAsync(first.FirstPage.Cursor!, 1, Scope, ct));
        Assert.Contains("continues a search of objects", wrongKind.Message, StringComparison.Ordinal);
        var otherScope = await Assert.ThrowsAsync<SearchQueryException>(() => _index.MoreObjectsAsync(first.FirstPage.Cursor!, 1, SearchScope.Whole(["bucket-a"]), ct));
        Assert.Contains("other buckets or other permissions", otherScope.Message, StringComparison.Ordinal);
        var tampered = first.FirstPage.Cursor![..^2] + (first.FirstPage.Cursor[^2] == 'A' ? "B" : "A") + first.FirstPage.Cursor[^1];
        var refused = await Assert.ThrowsAsync<SearchQueryException>(() => _index.MoreObjectsAsync(tampered, 1, Scope, ct));
        Assert.Contains("not one this search gave", refused.Message, StringComparison.Ordinal);
        Assert.Equal("cursor", refused.Field);
    }

    [Theory]
    [InlineData("colour:red", null, "Unknown field 'colour'")]
    [InlineData(null, "gte-lte", "gte 10 is above lte 1")]
    [InlineData(null, "empty-path", "the path is empty")]
    [InlineData(null, "two", "number and keyword are set")]
    [InlineData(null, "mismatch", "the type is keyword but a number predicate is set")]
    [InlineData(null, "bucket", "The bucket 'nope' cannot be searched here")]
    [InlineData("\"open", null, "Unbalanced quotes")]
    public async Task Bad_requests_are_refused_naming_the_problem(string? searchString, string? problem, string expected)
    {
        var predicate = problem switch
        {
            "gte-lte" => new UserMetaPredicate("/a", MetaFieldType.Number, Number: new NumberRange(10, 1)),
            "empty-path" => new UserMetaPredicate("", MetaFieldType.Number, Number: new NumberRange(1)),
            "two" => new UserMetaPredicate("/a", MetaFieldType.Number, Number: new NumberRange(1), Keyword: new KeywordMatch(["x"])),
            "mismatch" => new UserMetaPredicate("/a", MetaFieldType.Keyword, Number: new NumberRange(1)),
            _ => null,
        };
        var request = new PackageSearchRequest(problem == "bucket" ? ["nope"] : [], searchString, UserMetaFilters: predicate is null ? null : [predicate]);
        var error = await Assert.ThrowsAsync<SearchQueryException>(() => Packages(request));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_file_is_rebuilt_and_two_indexes_share_one_file()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = _dir.Combine("damaged.db");
        await File.WriteAllTextAsync(path, "this is not a database, just garbage " + new string('x', 5000), ct);
        var rebuilt = await SqliteSearchIndex.OpenAsync(path, ct);
        Assert.True(rebuilt.Rebuilt);
        Assert.Equal(0, (await rebuilt.SearchObjectsAsync(new ObjectSearchRequest([]), Scope, ct)).Total);

        var second = await SqliteSearchIndex.OpenAsync(path, ct);
        Assert.False(second.Rebuilt);
        await Task.WhenAll(
            rebuilt.UpsertObjectsAsync([.. Enumerable.Range(0, 200).Select(i => new ObjectDocument("bucket-a", $"one/{i}.txt", null, i, T0, null, false, "alpha"))], ct),
            second.UpsertObjectsAsync([.. Enumerable.Range(0, 200).Select(i => new ObjectDocument("bucket-a", $"two/{i}.txt", null, i, T0, null, false, "alpha"))], ct));
        Assert.Equal(400, (await second.SearchObjectsAsync(new ObjectSearchRequest([], "alpha"), Scope, ct)).Total);
        Assert.Equal(400, (await rebuilt.SearchObjectsAsync(new ObjectSearchRequest([], "alpha"), Scope, ct)).Total);
    }
}
