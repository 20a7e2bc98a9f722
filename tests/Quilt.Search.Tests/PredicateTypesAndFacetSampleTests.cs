using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Quilt.Search.Sqlite;
using Quilt.Testing;

namespace Quilt.Search.Tests;

/// <summary>
/// The embedded index refuses a metadata predicate whose type the field never has (as the gateway does), and says
/// when its metadata facets describe only the first hits of a broad search.
/// </summary>
public sealed class PredicateTypesAndFacetSampleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SearchScope Scope = SearchScope.Whole(["bucket-a", "bucket-b"]);
    private readonly TempDirectory _dir = new("search-limits");
    private SqliteSearchIndex _index = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _index = await SqliteSearchIndex.OpenAsync(_dir.Combine("index.db"), Ct);

    public async ValueTask DisposeAsync()
    {
        await _index.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static PackageRevisionDocument Revision(string bucket, int i, string meta) =>
        new(bucket, $"team/pkg-{i:D5}", i.ToString("x64", CultureInfo.InvariantCulture), T0.AddMinutes(i).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            T0.AddMinutes(i), true, $"Run {i}", JsonDocument.Parse(meta).RootElement.Clone(), null, 10, []);

    private Task<PackageSearchResults> Packages(PackageSearchRequest request, SearchScope? scope = null) =>
        _index.SearchPackagesAsync(request, scope ?? Scope, Ct);

    [Fact]
    public async Task A_metadata_predicate_of_a_type_the_field_never_has_is_refused_naming_the_path_and_its_type()
    {
        await _index.UpsertPackageRevisionsAsync(
        [
            Revision("bucket-a", 1, """{"experiment": {"temperature": 37.5, "lab": "north", "date": "2024-03-01"}}"""),
            Revision("bucket-a", 2, """{"experiment": {"temperature": 20, "lab": "south", "date": "2024-04-01"}}"""),
            Revision("bucket-b", 3, """{"site": 7}"""),
        ], Ct);

        var number = await Assert.ThrowsAsync<SearchQueryException>(() => Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/experiment/temperature", MetaFieldType.Number, Number: new NumberRange(0, 50)),
                new UserMetaPredicate("experiment.lab", MetaFieldType.Number, Number: new NumberRange(1, 2))])));
        Assert.Equal("userMetaFilters[1]: metadata field /experiment/lab is keyword here, not number. Use a keyword predicate for it.", number.Message);
        Assert.Equal("userMetaFilters[1]", number.Field);

        var keyword = await Assert.ThrowsAsync<SearchQueryException>(() => Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/experiment/temperature", MetaFieldType.Keyword, Keyword: new KeywordMatch(["37.5"]))])));
        Assert.Contains("/experiment/temperature is number here, not keyword", keyword.Message, StringComparison.Ordinal);
        var boolean = await Assert.ThrowsAsync<SearchQueryException>(() => Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/experiment/date", MetaFieldType.Boolean, Boolean: new BooleanMatch(True: true))])));
        Assert.Contains("/experiment/date is datetime here, not boolean", boolean.Message, StringComparison.Ordinal);

        // What a predicate can match is accepted: a keyword predicate on a date (a string), a text predicate on anything.
        Assert.Equal(1, (await Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/experiment/date", MetaFieldType.Keyword, Keyword: new KeywordMatch(["2024-03-01"]))]))).Total);
        Assert.Equal(1, (await Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/experiment/temperature", MetaFieldType.Text, Text: new TextMatch("20"))]))).Total);
        Assert.Equal(2, (await Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/experiment/temperature", MetaFieldType.Number, Number: new NumberRange(0, 50))]))).Total);

        // A field no revision has matches nothing, quietly; and only the caller's buckets are looked at, so a field
        // of an unreadable bucket is neither refused nor described.
        Assert.Equal(0, (await Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/nowhere", MetaFieldType.Number, Number: new NumberRange(1))]))).Total);
        Assert.Equal(0, (await Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/site", MetaFieldType.Keyword, Keyword: new KeywordMatch(["7"]))]), SearchScope.Whole(["bucket-a"]))).Total);
        await Assert.ThrowsAsync<SearchQueryException>(() => Packages(new PackageSearchRequest([],
            UserMetaFilters: [new UserMetaPredicate("/site", MetaFieldType.Keyword, Keyword: new KeywordMatch(["7"]))])));
    }

    [Fact]
    public async Task Metadata_facets_of_a_search_past_the_sample_bound_say_how_many_hits_they_describe()
    {
        const int count = SqliteSearchIndex.MaxFacetSample + 5;
        // The five oldest revisions alone hold /rare and the widest temperatures.
        await _index.UpsertPackageRevisionsAsync([.. Enumerable.Range(0, count).Select(i => Revision("bucket-a", i, i < 5
            ? $$"""{"temperature": {{(i == 0 ? -100 : 500)}}, "rare": "yes"}"""
            : $$"""{"temperature": {{i % 40}}}"""))], Ct);

        var broad = await Packages(new PackageSearchRequest([], Size: 3, Order: SearchOrder.Newest));
        Assert.Equal(count, broad.Total);
        Assert.Equal(SqliteSearchIndex.MaxFacetSample, broad.Stats.UserMetaSample);
        // The newest 1,000 hits: no /rare, temperatures 0 to 39 only; the extents of the hits themselves stay exact.
        Assert.DoesNotContain(broad.Stats.UserMeta, f => f.Path == "/rare");
        Assert.Equal(new NumberExtents(0, 39), Assert.Single(broad.Stats.UserMeta, f => f.Path == "/temperature").Number);
        Assert.Equal(new DateExtents(T0, T0.AddMinutes(count - 1)), broad.Stats.Modified);
        Assert.Equal(["team/pkg-01004", "team/pkg-01003", "team/pkg-01002"], broad.FirstPage.Hits.Select(h => h.Name));

        // The oldest first: the sample holds them.
        var oldest = await Packages(new PackageSearchRequest([], Size: 3, Order: SearchOrder.Oldest));
        Assert.Equal(new NumberExtents(-100, 500), Assert.Single(oldest.Stats.UserMeta, f => f.Path == "/temperature").Number);
        Assert.Equal(["yes"], Assert.Single(oldest.Stats.UserMeta, f => f.Path == "/rare").Keywords);

        // Within the bound, the facets are exact and say so (no sample).
        var narrow = await Packages(new PackageSearchRequest([], Filter: new PackageSearchFilter(Modified: new DateRange(Lte: T0.AddMinutes(500)))));
        Assert.Equal(501, narrow.Total);
        Assert.Null(narrow.Stats.UserMetaSample);
        Assert.Equal(new NumberExtents(-100, 500), Assert.Single(narrow.Stats.UserMeta, f => f.Path == "/temperature").Number);
    }
}
