using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Services;
using Quilt.Registry;
using Quilt.Search;

namespace Quilt.Gateway.Tests;

/// <summary>
/// A corpus in two buckets of its own, and a gateway whose search index answers over it: objects written straight to
/// S3 and a package published through a second gateway (both found by the reconciliation scan), packages published
/// through this gateway (fed as they are published). Roles see all of it, one bucket, or one prefix of one bucket.
/// The engine is the subclass's.
/// </summary>
public abstract class SearchCorpus(GatewayFixture shared) : IAsyncLifetime
{
    public GatewayFixture Shared { get; } = shared;
    public string A { get; private set; } = "";
    public string B { get; private set; } = "";
    public GatewayInstance Gateway { get; private set; } = null!;

    /// <summary>A gateway on the same buckets and roles without search: what it writes, the search gateway does not see.</summary>
    public GatewayInstance Behind { get; private set; } = null!;

    /// <summary>Chooses the engine.</summary>
    protected abstract Task ConfigureEngineAsync(GatewayOptions options);

    public static readonly (string Key, string Text)[] ObjectsOfA =
    [
        ("public/genome/readme.md", "Single cell genome atlas of the mouse brain"),
        ("public/genome/cells.csv", "cell_id,gene,expression\n1,Actb,3.5\n"),
        ("public/tables/weather.csv", "station,temperature\nnorth,4\n"),
        ("public/notes/cafe-notes.txt", "Café résumé naïve"),
        ("secret/plan.txt", "the secret genome plan"),
        ("secret/blob.bin", "binary genome"),
    ];

    public static readonly (string Key, string Text)[] ObjectsOfB =
    [
        ("b/genome.txt", "genome in the other bucket"),
        ("b/other.json", "{\"k\": \"weather\"}"),
        // Unicode keys and text, found through the reconciliation scan's listing.
        (UnicodeCsv, "température,ville,数据\n12,Genève\n"),
        (UnicodeMarkdown, "气候 报告: Größe über alles"),
    ];

    public const string UnicodeCsv = "intl/données/été-✓.csv";
    public const string UnicodeMarkdown = "intl/数据/报告.md";

    public async ValueTask InitializeAsync()
    {
        A = await Shared.S3.CreateBucketAsync();
        B = await Shared.S3.CreateBucketAsync();
        foreach (var (key, text) in ObjectsOfA)
            await Shared.PutAsync(A, key, Encoding.UTF8.GetBytes(text));
        foreach (var (key, text) in ObjectsOfB)
            await Shared.PutAsync(B, key, Encoding.UTF8.GetBytes(text));

        void Roles(GatewayOptions options)
        {
            options.Roles.Clear();
            options.Users.Clear();
            options.Roles["searcher"] = new RoleOptions { Grants = [Grant(A, ""), Grant(B, "")] };
            options.Roles["a-only"] = new RoleOptions { Grants = [Grant(A, "")] };
            options.Roles["narrow"] = new RoleOptions { Grants = [Grant(A, "public/")] };
            options.Roles["writer"] = new RoleOptions { Grants = [Grant(A, "", write: true), Grant(B, "", write: true)] };
        }

        Gateway = await GatewayInstance.StartAsync(Shared, options =>
        {
            Roles(options);
            options.Search.ReconcileAtStart = false;
            options.Search.ReconcileIntervalSeconds = 0;
            ConfigureEngineAsync(options).GetAwaiter().GetResult();
        });
        Behind = await GatewayInstance.StartAsync(Shared, options =>
        {
            Roles(options);
            options.Search.Enabled = false;
        });

        var writer = Shared.Tokens.Hs256("search-writer", "writer");
        await ConstructAsync(Gateway, writer, A, "team/genome", "first run",
            new JsonObject { ["project"] = "atlas", ["temperature"] = 4.5, ["date"] = "2024-05-01", ["tags"] = new JsonArray("mouse", "brain") },
            ("readme.md", "public/genome/readme.md"), ("cells.csv", "public/genome/cells.csv"));
        await ConstructAsync(Gateway, writer, A, "team/weather", "daily weather",
            new JsonObject { ["project"] = "climate", ["temperature"] = 21 }, ("weather.csv", "public/tables/weather.csv"));
        // The next revision of team/genome gets a later pointer (pointers are whole seconds).
        await Task.Delay(TimeSpan.FromSeconds(1.1), TestContext.Current.CancellationToken);
        await ConstructAsync(Gateway, writer, A, "team/genome", "second run",
            new JsonObject { ["project"] = "atlas", ["temperature"] = 37, ["date"] = "2024-06-01" },
            ("readme.md", "public/genome/readme.md"), ("raw/cells.csv", "public/genome/cells.csv"));
        await ConstructAsync(Behind, writer, B, "other/genome", "genome elsewhere",
            new JsonObject { ["onlyinb"] = 1 }, ("genome.txt", "b/genome.txt"));
        await ConstructAsync(Gateway, writer, B, "intl/climat", "relevés de température à Genève",
            new JsonObject { ["titre"] = "Été à Genève", ["标签"] = "气候", ["lieu"] = new JsonObject { ["ville"] = "Zürich" } },
            ("données/été-✓.csv", UnicodeCsv), ("报告.md", UnicodeMarkdown));

        await Reconciler.RunOnceAsync(TestContext.Current.CancellationToken);
    }

    public SearchReconciler Reconciler => Gateway.Services.GetRequiredService<SearchReconciler>();

    private static GrantOptions Grant(string bucket, string prefix, bool write = false) =>
        new() { Bucket = bucket, Prefix = prefix, Read = true, Write = write };

    public static async Task<string> ConstructAsync(GatewayInstance gateway, string token, string bucket, string name, string message, JsonObject meta,
        params (string LogicalKey, string Key)[] entries)
    {
        var data = await gateway.DataAsync(token, """
            mutation($params: PackagePushParams!, $src: PackageConstructSource!) {
              packageConstruct(params: $params, src: $src) {
                __typename
                ... on PackagePushSuccess { revision { hash } }
                ... on InvalidInput { errors { path message name } }
                ... on OperationError { message name }
              }
            }
            """, new
        {
            @params = new { bucket, name, message, userMeta = meta },
            src = new { entries = entries.Select(e => new { logicalKey = e.LogicalKey, physicalKey = $"s3://{bucket}/{e.Key}" }).ToArray() },
        });
        var result = data["packageConstruct"]!;
        Assert.True(result["__typename"]!.GetValue<string>() == "PackagePushSuccess", result.ToJsonString());
        return result["revision"]!["hash"]!.GetValue<string>();
    }

    /// <summary>Uploads <paramref name="text"/> to bucket/key through an upload URL of the search gateway (a presigned POST).</summary>
    public async Task UploadAsync(string token, string bucket, string key, string text)
    {
        var url = (await Gateway.DataAsync(token, "mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { uploadUrl fields expires } }",
            new { b = bucket, k = key }))["generateUploadUrl"]!;
        var (status, _) = await Shared.PostFileAsync(url, Encoding.UTF8.GetBytes(text));
        Assert.True((int)status is >= 200 and < 300);
    }

    /// <summary>Quilt's client in registry mode, talking to this gateway over HTTP with a JWT for the role.</summary>
    public RegistrySearchService Client(string subject, string role) =>
        new(new RegistryApiClient(Shared.Http, Gateway.BaseUrl, new FixedRegistryToken(Shared.Tokens.Hs256(subject, role))));

    public async ValueTask DisposeAsync()
    {
        if (Behind is not null)
            await Behind.DisposeAsync();
        if (Gateway is not null)
            await Gateway.DisposeAsync();
    }
}

/// <summary>The corpus over the PostgreSQL engine (audit.postgres set: shared by every instance).</summary>
public sealed class PostgresSearchCorpus(GatewayFixture shared) : SearchCorpus(shared)
{
    protected override async Task ConfigureEngineAsync(GatewayOptions options) =>
        options.Audit.Postgres = await PostgresServer.CreateDatabaseAsync(TestContext.Current.CancellationToken);
}

/// <summary>
/// The gateway's searches, asked as Quilt's registry client asks them (RegistrySearchService over HTTP with a JWT):
/// the same test body for each engine, with the same expected hits.
/// </summary>
public abstract class GatewaySearchTests<TCorpus>(TCorpus corpus) where TCorpus : SearchCorpus
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string[] Names(PackageSearchResults results) => [.. results.FirstPage.Hits.Select(h => $"{h.Name}:{h.Comment}").Order(StringComparer.Ordinal)];

    private static string[] Keys(ObjectSearchResults results) => [.. results.FirstPage.Hits.Select(h => h.Key).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Packages_match_by_words_in_name_message_metadata_and_entry_keys()
    {
        var client = corpus.Client("search-pkg", "searcher");
        var all = await client.SearchPackagesAsync(new PackageSearchRequest([], "genome"), Ct);
        Assert.Equal(["other/genome:genome elsewhere", "team/genome:first run", "team/genome:second run"], Names(all));
        Assert.Equal(3, all.Total);

        var latest = await client.SearchPackagesAsync(new PackageSearchRequest([], "genome", LatestOnly: true), Ct);
        Assert.Equal(["other/genome:genome elsewhere", "team/genome:second run"], Names(latest));
        Assert.All(latest.FirstPage.Hits, h => Assert.Equal("latest", h.Pointer));

        // A phrase, a field, a prefix, NOT, and a word that is only an entry's logical key.
        Assert.Equal(["team/genome:second run"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "\"second run\""), Ct)));
        Assert.Equal(["team/weather:daily weather"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "comment:weath*"), Ct)));
        Assert.Equal(["team/genome:first run", "team/genome:second run"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([corpus.A], "genome -weather"), Ct)));
        Assert.Equal(["team/genome:second run"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "entry:raw"), Ct)));
        Assert.Equal(["team/genome:first run"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "meta.tags:mouse"), Ct)));

        var hit = (await client.SearchPackagesAsync(new PackageSearchRequest([], "name:weather"), Ct)).FirstPage.Hits.Single();
        Assert.True(hit.MatchLocations.Name);
        Assert.Equal(corpus.A, hit.Bucket);
        Assert.Equal("climate", JsonNode.Parse(hit.Meta!)!["project"]!.GetValue<string>());
        var entry = (await client.SearchPackagesAsync(new PackageSearchRequest([], "cells"), Ct)).FirstPage.Hits[0].MatchingEntries.Single();
        Assert.True(entry.MatchLocations.LogicalKey);
        Assert.EndsWith("cells.csv", entry.LogicalKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_predicates_filter_by_type_and_facets_describe_the_hits()
    {
        var client = corpus.Client("search-meta", "a-only");
        var warm = await client.SearchPackagesAsync(new PackageSearchRequest([], UserMetaFilters:
            [new UserMetaPredicate("/temperature", MetaFieldType.Number, Number: new NumberRange(Gte: 20))]), Ct);
        Assert.Equal(["team/genome:second run", "team/weather:daily weather"], Names(warm));

        var climate = await client.SearchPackagesAsync(new PackageSearchRequest([], UserMetaFilters:
            [new UserMetaPredicate("/project", MetaFieldType.Keyword, Keyword: new KeywordMatch(["climate"]))]), Ct);
        Assert.Equal(["team/weather:daily weather"], Names(climate));

        var june = await client.SearchPackagesAsync(new PackageSearchRequest([], UserMetaFilters:
            [new UserMetaPredicate("/date", MetaFieldType.Datetime, Datetime: new DateRange(Gte: new DateTimeOffset(2024, 5, 15, 0, 0, 0, TimeSpan.Zero)))]), Ct);
        Assert.Equal(["team/genome:second run"], Names(june));

        var everything = await client.SearchPackagesAsync(new PackageSearchRequest([]), Ct);
        var temperature = everything.Stats.UserMeta.Single(f => f.Path == "/temperature");
        Assert.Equal(MetaFieldType.Number, temperature.Type);
        Assert.Equal(new NumberExtents(4.5, 37), temperature.Number);
        Assert.Equal(["atlas", "climate"], everything.Stats.UserMeta.Single(f => f.Path == "/project").Keywords!.Order(StringComparer.Ordinal));
        Assert.Equal(MetaFieldType.Datetime, everything.Stats.UserMeta.Single(f => f.Path == "/date").Type);

        var newest = await client.SearchPackagesAsync(new PackageSearchRequest([], Order: SearchOrder.LexDesc), Ct);
        Assert.Equal("team/weather", newest.FirstPage.Hits[0].Name);
    }

    [Fact]
    public async Task Grants_hide_other_buckets_and_prefixes_from_hits_totals_and_facets()
    {
        // a-only: bucket B's package is neither a hit, nor counted, nor among the metadata fields.
        var aOnly = corpus.Client("search-grants-a", "a-only");
        var packages = await aOnly.SearchPackagesAsync(new PackageSearchRequest([], "genome"), Ct);
        Assert.Equal(2, packages.Total);
        Assert.All(packages.FirstPage.Hits, h => Assert.Equal(corpus.A, h.Bucket));
        Assert.DoesNotContain(packages.Stats.UserMeta, f => f.Path == "/onlyinb");
        var objects = await aOnly.SearchObjectsAsync(new ObjectSearchRequest([], "genome"), Ct);
        Assert.All(objects.FirstPage.Hits, h => Assert.Equal(corpus.A, h.Bucket));
        // Naming a bucket the role may not read is refused, not quietly empty.
        var refused = await Assert.ThrowsAsync<SearchQueryException>(() => aOnly.SearchObjectsAsync(new ObjectSearchRequest([corpus.B], "genome"), Ct));
        Assert.Contains(corpus.B, refused.Message, StringComparison.Ordinal);

        // narrow (A's public/ only): no secret/ keys, counts and extensions without them, and no packages (.quilt/ unreadable).
        var narrow = corpus.Client("search-grants-n", "narrow");
        var visible = await narrow.SearchObjectsAsync(new ObjectSearchRequest([], "genome"), Ct);
        Assert.Equal(["public/genome/cells.csv", "public/genome/readme.md"], Keys(visible));
        Assert.Equal(2, visible.Total);
        var every = await narrow.SearchObjectsAsync(new ObjectSearchRequest([]), Ct);
        Assert.DoesNotContain(".bin", every.Stats.Extensions);
        Assert.Equal(4, every.Total);
        Assert.Equal(0, (await narrow.SearchPackagesAsync(new PackageSearchRequest([], "genome"), Ct)).Total);

        var searcher = corpus.Client("search-grants-s", "searcher");
        var all = await searcher.SearchObjectsAsync(new ObjectSearchRequest([], "genome"), Ct);
        Assert.Equal(["b/genome.txt", "public/genome/cells.csv", "public/genome/readme.md", "secret/plan.txt"], Keys(all));
        Assert.Equal(4, all.Total);
        Assert.Contains(".bin", (await searcher.SearchObjectsAsync(new ObjectSearchRequest([]), Ct)).Stats.Extensions);
    }

    [Fact]
    public async Task Objects_match_keys_and_text_with_filters_and_accents_folded()
    {
        var client = corpus.Client("search-obj", "a-only");
        Assert.Equal(["public/genome/readme.md"], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "\"mouse brain\""), Ct)));
        // A CSV's header is indexed, its rows are not.
        Assert.Equal(["public/tables/weather.csv"], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "content:station"), Ct)));
        Assert.Empty((await client.SearchObjectsAsync(new ObjectSearchRequest([], "north"), Ct)).FirstPage.Hits);
        // Accents fold on both sides: résumé is found as resume, and RÉSUMÉ as résumé.
        Assert.Equal(["public/notes/cafe-notes.txt"], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "content:resume"), Ct)));
        Assert.Equal(["public/notes/cafe-notes.txt"], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "RÉSUMÉ naïve"), Ct)));
        var csv = await client.SearchObjectsAsync(new ObjectSearchRequest([], Filter: new ObjectSearchFilter(Ext: new KeywordMatch([".csv"]))), Ct);
        Assert.Equal(["public/genome/cells.csv", "public/tables/weather.csv"], Keys(csv));
        var wildcard = await client.SearchObjectsAsync(new ObjectSearchRequest([], Filter: new ObjectSearchFilter(Key: new KeywordMatch(Wildcard: "secret/*"))), Ct);
        Assert.Equal(["secret/blob.bin", "secret/plan.txt"], Keys(wildcard));
        var hit = (await client.SearchObjectsAsync(new ObjectSearchRequest([], "atlas"), Ct)).FirstPage.Hits.Single();
        Assert.StartsWith("Single cell genome atlas", hit.IndexedContent, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(SearchCorpus.ObjectsOfA[0].Text), hit.Size);
    }

    [Theory]
    [InlineData("\"single cell", "Unbalanced quotes")]
    [InlineData("colour:red", "Unknown field 'colour'")]
    [InlineData("(genome", "Unbalanced parenthesis")]
    public async Task Bad_search_strings_are_invalid_input_naming_the_problem(string searchString, string expected)
    {
        var client = corpus.Client("search-bad", "searcher");
        var packages = await Assert.ThrowsAsync<SearchQueryException>(() => client.SearchPackagesAsync(new PackageSearchRequest([], searchString), Ct));
        Assert.Contains(expected, packages.Message, StringComparison.Ordinal);
        var objects = await Assert.ThrowsAsync<SearchQueryException>(() => client.SearchObjectsAsync(new ObjectSearchRequest([], searchString), Ct));
        Assert.Contains(expected, objects.Message, StringComparison.Ordinal);
        Assert.Equal("searchString", packages.Field);
    }

    [Fact]
    public async Task A_predicate_of_the_wrong_type_is_invalid_input_naming_the_field_and_its_type()
    {
        var client = corpus.Client("search-bad-type", "searcher");
        var error = await Assert.ThrowsAsync<SearchQueryException>(() => client.SearchPackagesAsync(new PackageSearchRequest([], UserMetaFilters:
            [new UserMetaPredicate("/project", MetaFieldType.Number, Number: new NumberRange(Gte: 1))]), Ct));
        Assert.Contains("/project is keyword", error.Message, StringComparison.Ordinal);

        // Quilt's ordering grammar: unparseable, and well-formed but unsupported, are both the firstPage's InvalidInput.
        var (_, body) = await corpus.Gateway.GraphQLAsync(corpus.Shared.Tokens.Hs256("search-bad-order", "searcher"), """
            { searchPackages(searchString: "genome") { __typename ... on PackagesSearchResultSet {
                bad: firstPage(ordering: "SYS:NAME") { __typename ... on InvalidInput { errors { name message } } }
                unsupported: firstPage(ordering: "usr:/temperature:number:asc") { __typename ... on InvalidInput { errors { name message } } } } } }
            """, null, "/graphql", Ct);
        var set = body["data"]!["searchPackages"]!;
        Assert.Equal("ordering", set["bad"]!["errors"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("UnsupportedSort", set["unsupported"]!["errors"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pages_follow_cursors_and_a_cursor_works_only_for_the_caller_and_role_it_was_given_to()
    {
        var client = corpus.Client("search-pages", "searcher");
        var first = await client.SearchObjectsAsync(new ObjectSearchRequest([], Size: 3, Order: SearchOrder.LexAsc), Ct);
        Assert.Equal(3, first.FirstPage.Hits.Count);
        Assert.NotNull(first.FirstPage.Cursor);
        var keys = first.FirstPage.Hits.Select(h => $"{h.Bucket}/{h.Key}").ToList();
        var cursor = first.FirstPage.Cursor;
        while (cursor is not null)
        {
            var page = await client.MoreObjectsAsync(cursor, 3, Ct);
            keys.AddRange(page.Hits.Select(h => $"{h.Bucket}/{h.Key}"));
            cursor = page.Cursor;
        }
        Assert.Equal(first.Total, keys.Count);
        Assert.Equal(keys.Distinct().Count(), keys.Count);

        var packages = await client.SearchPackagesAsync(new PackageSearchRequest([], Size: 1, Order: SearchOrder.Newest), Ct);
        var next = await client.MorePackagesAsync(packages.FirstPage.Cursor!, 1, Ct);
        Assert.NotEqual(packages.FirstPage.Hits[0].Id, next.Hits.Single().Id);

        // Someone else's cursor, or the same user's under another role, is refused.
        var other = corpus.Client("search-pages-other", "searcher");
        var error = await Assert.ThrowsAsync<SearchQueryException>(() => other.MoreObjectsAsync(first.FirstPage.Cursor!, 3, Ct));
        Assert.Contains("cursor", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SearchQueryException>(() => corpus.Client("search-pages", "a-only").MoreObjectsAsync(first.FirstPage.Cursor!, 3, Ct));
        await Assert.ThrowsAsync<SearchQueryException>(() => client.MorePackagesAsync(first.FirstPage.Cursor!, 3, Ct));
    }

    [Fact]
    public async Task An_upload_and_a_published_revision_are_found_without_a_reconciliation()
    {
        var token = corpus.Shared.Tokens.Hs256("search-fresh", "writer");
        // Outside public/, so that what the narrow role sees stays the same whatever order the tests run in.
        var key = $"fresh/{Guid.NewGuid():N}.txt";
        await corpus.UploadAsync(token, corpus.A, key, "a freshly uploaded zebrafish note");
        var client = corpus.Client("search-fresh", "writer");
        Assert.Equal([key], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "zebrafish"), Ct)));

        await SearchCorpus.ConstructAsync(corpus.Gateway, token, corpus.A, "fresh/zebrafish", "zebrafish study", new JsonObject(), ("note.txt", key));
        var found = await client.SearchPackagesAsync(new PackageSearchRequest([], "zebrafish", LatestOnly: true), Ct);
        Assert.Equal("fresh/zebrafish", found.FirstPage.Hits.Single().Name);
    }

    [Fact]
    public async Task Unicode_keys_names_and_metadata_are_found_folded_on_both_sides()
    {
        var client = corpus.Client("search-unicode", "searcher");
        // Keys: accented words fold (été = ete), CJK words are words, and exact keys and wildcards compare the key as it is.
        Assert.Equal([SearchCorpus.UnicodeCsv], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "été"), Ct)));
        Assert.Equal([SearchCorpus.UnicodeCsv], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "key:donnees"), Ct)));
        Assert.Equal([SearchCorpus.UnicodeCsv, SearchCorpus.UnicodeMarkdown], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "数据"), Ct)));
        Assert.Equal([SearchCorpus.UnicodeMarkdown], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "content:气候 ÜBER"), Ct)));
        Assert.Equal([SearchCorpus.UnicodeCsv], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "content:ville"), Ct)));
        Assert.Equal([SearchCorpus.UnicodeCsv], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([],
            Filter: new ObjectSearchFilter(Key: new KeywordMatch(Wildcard: "intl/données/*"))), Ct)));
        Assert.Equal([SearchCorpus.UnicodeMarkdown], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([],
            Filter: new ObjectSearchFilter(Key: new KeywordMatch([SearchCorpus.UnicodeMarkdown]))), Ct)));
        var hit = (await client.SearchObjectsAsync(new ObjectSearchRequest([], "报告"), Ct)).FirstPage.Hits.Single();
        Assert.Equal(SearchCorpus.UnicodeMarkdown, hit.Key);
        Assert.StartsWith("气候 报告", hit.IndexedContent, StringComparison.Ordinal);

        // Packages: a message, metadata and logical keys in other scripts; a keyword predicate on a CJK field name.
        Assert.Equal(["intl/climat:relevés de température à Genève"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "geneve releves"), Ct)));
        Assert.Equal(["intl/climat:relevés de température à Genève"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "ZÜRICH"), Ct)));
        var keyword = await client.SearchPackagesAsync(new PackageSearchRequest([], UserMetaFilters:
            [new UserMetaPredicate("/标签", MetaFieldType.Keyword, Keyword: new KeywordMatch(["气候"]))]), Ct);
        Assert.Equal(["intl/climat:relevés de température à Genève"], Names(keyword));
        var entry = (await client.SearchPackagesAsync(new PackageSearchRequest([], "entry:été"), Ct)).FirstPage.Hits.Single().MatchingEntries.Single();
        Assert.Equal("données/été-✓.csv", entry.LogicalKey);

        // An upload URL for a unicode key: the object is found once it arrives.
        var token = corpus.Shared.Tokens.Hs256("search-unicode", "writer");
        var key = $"fresh/日本語-résumé-{Guid.NewGuid():N}.txt";
        await corpus.UploadAsync(token, corpus.B, key, "きつね 狐 fox");
        Assert.Equal([key], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "狐"), Ct)));
        Assert.Equal([key], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "日本語 resume"), Ct)));
    }

    [Fact]
    public async Task A_promoted_revision_is_found_in_its_destination_without_a_reconciliation()
    {
        var token = corpus.Shared.Tokens.Hs256("search-promote", "writer");
        var key = $"promo/{Guid.NewGuid():N}.txt";
        await corpus.Shared.PutAsync(corpus.A, key, Encoding.UTF8.GetBytes("a quokka census"));
        // Published behind the search gateway's back: only the promotion below can make it a hit.
        var source = await SearchCorpus.ConstructAsync(corpus.Behind, token, corpus.A, "promo/quokka-source", "quokka census", new JsonObject(), ("census.txt", key));
        var client = corpus.Client("search-promote", "searcher");
        Assert.Equal(0, (await client.SearchPackagesAsync(new PackageSearchRequest([], "quokka"), Ct)).Total);

        var promoted = (await corpus.Gateway.DataAsync(token, """
            mutation($params: PackagePushParams!, $src: PackagePromoteSource!) {
              packagePromote(params: $params, src: $src) {
                __typename
                ... on PackagePushSuccess { revision { hash } }
                ... on InvalidInput { errors { path message name } }
                ... on OperationError { message name }
              }
            }
            """, new
        {
            @params = new { bucket = corpus.B, name = "promo/quokka", message = "quokka promoted" },
            src = new { bucket = corpus.A, name = "promo/quokka-source", hash = source },
        }))["packagePromote"]!;
        Assert.True(promoted["__typename"]!.GetValue<string>() == "PackagePushSuccess", promoted.ToJsonString());

        var found = await client.SearchPackagesAsync(new PackageSearchRequest([corpus.B], "quokka", LatestOnly: true), Ct);
        var hit = found.FirstPage.Hits.Single();
        Assert.Equal(("promo/quokka", "quokka promoted", corpus.B), (hit.Name, hit.Comment, hit.Bucket));
        Assert.Equal(promoted["revision"]!["hash"]!.GetValue<string>(), hit.Hash);
        Assert.Equal("latest", hit.Pointer);
        Assert.Equal("census.txt", (await client.SearchPackagesAsync(new PackageSearchRequest([corpus.B], "entry:census"), Ct)).FirstPage.Hits.Single().MatchingEntries.Single().LogicalKey);
    }

    [Fact]
    public async Task A_deleted_revision_stops_being_a_hit_and_latest_moves_to_the_revision_before_it()
    {
        var token = corpus.Shared.Tokens.Hs256("search-delete", "writer");
        var key = $"wombat/{Guid.NewGuid():N}.txt";
        await corpus.Shared.PutAsync(corpus.A, key, Encoding.UTF8.GetBytes("wombat burrows"));
        const string Name = "gone/wombat";
        var first = await SearchCorpus.ConstructAsync(corpus.Gateway, token, corpus.A, Name, "wombat first", new JsonObject(), ("w.txt", key));
        // A later pointer for the second revision (pointers are whole seconds).
        await Task.Delay(TimeSpan.FromSeconds(1.1), Ct);
        var second = await SearchCorpus.ConstructAsync(corpus.Gateway, token, corpus.A, Name, "wombat second", new JsonObject(), ("w.txt", key));
        var client = corpus.Client("search-delete", "searcher");
        Assert.Equal(["gone/wombat:wombat second"], Names(await client.SearchPackagesAsync(new PackageSearchRequest([], "wombat", LatestOnly: true), Ct)));

        async Task DeleteAsync(string hash)
        {
            var deleted = (await corpus.Gateway.DataAsync(token, """
                mutation($b: String!, $n: String!, $h: String!) {
                  packageRevisionDelete(bucket: $b, name: $n, hash: $h) { __typename ... on OperationError { message name } }
                }
                """, new { b = corpus.A, n = Name, h = hash }))["packageRevisionDelete"]!;
            Assert.True(deleted["__typename"]!.GetValue<string>() == "PackageRevisionDeleteSuccess", deleted.ToJsonString());
        }

        // The latest revision goes: it is no hit, and the one before it is flagged latest.
        await DeleteAsync(second);
        var all = await client.SearchPackagesAsync(new PackageSearchRequest([], "wombat"), Ct);
        Assert.Equal(["gone/wombat:wombat first"], Names(all));
        Assert.Equal(1, all.Total);
        var latest = (await client.SearchPackagesAsync(new PackageSearchRequest([], "wombat", LatestOnly: true), Ct)).FirstPage.Hits.Single();
        Assert.Equal((first, "latest"), (latest.Hash, latest.Pointer));

        // The last revision goes, and the package with it.
        await DeleteAsync(first);
        Assert.Equal(0, (await client.SearchPackagesAsync(new PackageSearchRequest([], "wombat"), Ct)).Total);
        Assert.Equal(0, (await client.SearchPackagesAsync(new PackageSearchRequest([], "name:gone"), Ct)).Total);
    }

    [Fact]
    public async Task Reconciliation_finds_objects_written_and_deleted_behind_the_gateways_back()
    {
        var key = $"behind/{Guid.NewGuid():N}.md";
        await corpus.Shared.PutAsync(corpus.A, key, Encoding.UTF8.GetBytes("an okapi sighting"));
        var client = corpus.Client("search-behind", "searcher");
        Assert.Empty((await client.SearchObjectsAsync(new ObjectSearchRequest([], "okapi"), Ct)).FirstPage.Hits);

        await corpus.Reconciler.RunOnceAsync(Ct);
        Assert.Equal([key], Keys(await client.SearchObjectsAsync(new ObjectSearchRequest([], "okapi"), Ct)));

        await corpus.Shared.RawS3.DeleteObjectAsync(corpus.A, key, Ct);
        await corpus.Reconciler.RunOnceAsync(Ct);
        Assert.Empty((await client.SearchObjectsAsync(new ObjectSearchRequest([], "okapi"), Ct)).FirstPage.Hits);
    }
}

/// <summary>The corpus over the SQLite engine (one instance: a file beside the gateway's database).</summary>
public sealed class SqliteSearchCorpus(GatewayFixture shared) : SearchCorpus(shared)
{
    protected override Task ConfigureEngineAsync(GatewayOptions options) => Task.CompletedTask;
}

public sealed class SqliteGatewaySearchTests(SqliteSearchCorpus corpus)
    : GatewaySearchTests<SqliteSearchCorpus>(corpus), IClassFixture<SqliteSearchCorpus>;

public sealed class PostgresGatewaySearchTests(PostgresSearchCorpus corpus)
    : GatewaySearchTests<PostgresSearchCorpus>(corpus), IClassFixture<PostgresSearchCorpus>;

/// <summary>
/// The PostgreSQL index's own cursors (under the gateway's seal): sealed with a key kept in its database, so another
/// instance on the same database continues them, while a cursor altered, made up, or from another database is refused.
/// </summary>
public sealed class PostgresSearchCursorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_cursor_continues_on_every_instance_of_its_database_and_nowhere_else()
    {
        var database = await PostgresServer.CreateDatabaseAsync(Ct);
        var scope = SearchScope.Whole(["cursor-bucket"]);
        var request = new ObjectSearchRequest([], Size: 1, Order: SearchOrder.LexAsc);
        await using var first = await Search.PostgresSearchIndex.OpenAsync(database, Ct);
        await first.UpsertObjectsAsync([.. Enumerable.Range(0, 3).Select(i =>
            new ObjectDocument("cursor-bucket", $"k{i}.txt", null, 1, DateTimeOffset.UnixEpoch, null, Deleted: false, null))], Ct);
        var cursor = (await first.SearchObjectsAsync(request, scope, Ct)).FirstPage.Cursor!;

        await using var second = await Search.PostgresSearchIndex.OpenAsync(database, Ct);
        Assert.Equal("k1.txt", (await second.MoreObjectsAsync(cursor, 1, scope, Ct)).Hits.Single().Key);

        // What a cursor held before (base64 JSON naming the kind, the scope's hash and an offset) is not one.
        var made = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"Kind":"objects","Request":"{}","Offset":0,"Scope":"x"}""")).TrimEnd('=');
        var altered = cursor[..^2] + (cursor[^2] == 'A' ? 'B' : 'A') + cursor[^1];
        await using var other = await Search.PostgresSearchIndex.OpenAsync(await PostgresServer.CreateDatabaseAsync(Ct), Ct);
        foreach (var (index, bad) in new[] { (second, made), (second, altered), (other, cursor) })
        {
            var refused = await Assert.ThrowsAsync<SearchQueryException>(() => index.MoreObjectsAsync(bad, 1, scope, Ct));
            Assert.Contains("not one this search gave", refused.Message, StringComparison.Ordinal);
        }
    }
}
