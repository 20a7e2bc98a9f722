using System.Text;
using Quilt.Storage.Local;

namespace Quilt.Storage.Tests.Local;

public sealed class LocalFolderStoreListingTests : IDisposable
{
    private readonly LocalStoreFixture _f = new();
    private LocalFolderStore Store => _f.Store;
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _f.Dispose();

    private async Task PutAllAsync(string bucket, IEnumerable<string> keys)
    {
        foreach (var key in keys)
            await _f.PutTextAsync(bucket, key, key);
    }

    private Task<ObjectListing> ListAsync(string prefix = "", string? delimiter = null, int pageSize = 1000, string? token = null) =>
        Store.ListAsync(new ListRequest("data", prefix, delimiter, pageSize, token), Token);

    [Fact]
    public async Task Keys_come_in_S3_order_which_is_UTF8_byte_order_not_folder_walk_or_UTF16_order()
    {
        // '-' (2D) < '.' (2E) < '/' (2F) < '0' (30); U+E000 sorts before U+1F600 in UTF-8 but after it in UTF-16.
        string[] keys = ["\U0001F600.txt", "a0", "a/b", "a.txt", "a-c", "\uE000.txt", "Z", "é"];
        await PutAllAsync("data", keys);

        var listing = await ListAsync();

        Assert.Equal(["Z", "a-c", "a.txt", "a/b", "a0", "é", "\uE000.txt", "\U0001F600.txt"], listing.Objects.Select(o => o.Key));
        Assert.Empty(listing.CommonPrefixes);
        Assert.Null(listing.NextContinuationToken);
        Assert.False(listing.IsTruncated);
    }

    [Fact]
    public async Task Summaries_carry_size_time_and_the_same_etag_as_head()
    {
        await _f.PutTextAsync("data", "dir/file.csv", "12345");

        var summary = Assert.Single((await ListAsync()).Objects);
        var head = await Store.HeadAsync(new ObjectRef("data", "dir/file.csv"), Token);

        Assert.Equal(new ObjectSummary("dir/file.csv", 5, head.LastModified, head.ETag), summary);
    }

    [Fact]
    public async Task A_prefix_is_any_string_not_only_a_folder()
    {
        await PutAllAsync("data", ["data.csv", "dat/x", "dat/y/z", "d/x", "ab", "datum/q"]);

        Assert.Equal(["dat/x", "dat/y/z", "data.csv", "datum/q"], (await ListAsync("da")).Objects.Select(o => o.Key));
        Assert.Equal(["dat/y/z"], (await ListAsync("dat/y")).Objects.Select(o => o.Key));
        Assert.Equal(["dat/x", "dat/y/z"], (await ListAsync("dat/")).Objects.Select(o => o.Key));
        Assert.Empty((await ListAsync("dat/x/")).Objects);
        Assert.Empty((await ListAsync("nothing/here/")).Objects);

        var folded = await ListAsync("da", "/");
        Assert.Equal(["data.csv"], folded.Objects.Select(o => o.Key));
        Assert.Equal(["dat/", "datum/"], folded.CommonPrefixes);
    }

    [Fact]
    public async Task The_slash_delimiter_folds_each_subfolder_into_one_common_prefix()
    {
        await PutAllAsync("data", ["top.txt", "a/1", "a/2/deep", "b/x", "c.csv", "a.txt"]);

        var root = await ListAsync(delimiter: "/");
        Assert.Equal(["a.txt", "c.csv", "top.txt"], root.Objects.Select(o => o.Key));
        Assert.Equal(["a/", "b/"], root.CommonPrefixes);

        var inA = await ListAsync("a/", "/");
        Assert.Equal(["a/1"], inA.Objects.Select(o => o.Key));
        Assert.Equal(["a/2/"], inA.CommonPrefixes);
    }

    [Fact]
    public async Task Empty_folders_are_not_common_prefixes_because_S3_has_none()
    {
        await PutAllAsync("data", ["full/x"]);
        Directory.CreateDirectory(_f.PathOf("data", "empty"));
        Directory.CreateDirectory(_f.PathOf("data", "nested/empty/deeper"));

        var listing = await ListAsync(delimiter: "/");

        Assert.Equal(["full/"], listing.CommonPrefixes);
        Assert.Equal(["full/x"], (await ListAsync()).Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Other_delimiters_fold_too()
    {
        await PutAllAsync("data", ["2024-01/a", "2024-01/b", "2024-02", "2025", "x-y-z"]);

        var listing = await ListAsync(delimiter: "-");
        Assert.Equal(["2025"], listing.Objects.Select(o => o.Key));
        Assert.Equal(["2024-", "x-"], listing.CommonPrefixes);

        var inYear = await ListAsync("2024-", "-");
        Assert.Equal(["2024-01/a", "2024-01/b", "2024-02"], inYear.Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Pages_resume_after_the_last_key_or_common_prefix_returned()
    {
        await PutAllAsync("data", ["a", "b/1", "b/2", "c", "d/1", "e"]);

        var first = await ListAsync(delimiter: "/", pageSize: 2);
        Assert.Equal(["a"], first.Objects.Select(o => o.Key));
        Assert.Equal(["b/"], first.CommonPrefixes);
        Assert.True(first.IsTruncated);

        var second = await ListAsync(delimiter: "/", pageSize: 2, token: first.NextContinuationToken);
        Assert.Equal(["c"], second.Objects.Select(o => o.Key));
        Assert.Equal(["d/"], second.CommonPrefixes);

        var third = await ListAsync(delimiter: "/", pageSize: 2, token: second.NextContinuationToken);
        Assert.Equal(["e"], third.Objects.Select(o => o.Key));
        Assert.Empty(third.CommonPrefixes);
        Assert.Null(third.NextContinuationToken);
    }

    [Fact]
    public async Task A_page_that_exactly_empties_the_listing_has_no_token()
    {
        await PutAllAsync("data", ["a", "b"]);
        var listing = await ListAsync(pageSize: 2);
        Assert.Equal(2, listing.Objects.Count);
        Assert.Null(listing.NextContinuationToken);
    }

    [Fact]
    public async Task A_token_this_store_did_not_issue_is_refused_clearly()
    {
        await PutAllAsync("data", ["a"]);
        foreach (var token in new[] { "not base64!", "AAAA", Convert.ToBase64String(Encoding.UTF8.GetBytes("2kx")) })
        {
            var ex = await Assert.ThrowsAsync<StorageException>(() => ListAsync(token: token));
            Assert.Contains("continuation token", ex.Message, StringComparison.Ordinal);
            Assert.Contains("without a token", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Page_size_must_be_positive_and_is_capped_at_1000_like_S3()
    {
        var folder = _f.PathOf("data", "many");
        Directory.CreateDirectory(folder);
        var ex = await Assert.ThrowsAsync<StorageException>(() => ListAsync(pageSize: 0));
        Assert.Contains("PageSize", ex.Message, StringComparison.Ordinal);

        for (var i = 0; i < 1005; i++)
            await File.WriteAllTextAsync(Path.Join(folder, $"f{i:D5}"), "", Token);

        var first = await ListAsync(pageSize: 5000);
        Assert.Equal(1000, first.Objects.Count);
        var second = await ListAsync(pageSize: 5000, token: first.NextContinuationToken);
        Assert.Equal(5, second.Objects.Count);
        Assert.Equal("many/f01004", second.Objects[^1].Key);
    }

    [Fact]
    public async Task A_listing_shows_files_written_by_other_programs_and_skips_housekeeping()
    {
        await _f.PutTextAsync("data", "via-store.txt", "x", new PutRequest("data", "via-store.txt") { Metadata = new Dictionary<string, string> { ["a"] = "b" } });
        Directory.CreateDirectory(_f.PathOf("data", "copied/in"));
        await File.WriteAllTextAsync(_f.PathOf("data", "copied/in/by-hand.csv"), "1,2", Token);

        var listing = await ListAsync();

        Assert.Equal(["copied/in/by-hand.csv", "via-store.txt"], listing.Objects.Select(o => o.Key));
    }

    public static TheoryData<int> Seeds => [1, 2, 3];

    /// <summary>Every prefix, delimiter and page size, paged to the end, against a brute-force model of S3's rules.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Paged_listings_match_a_model_of_S3_for_random_trees(int seed)
    {
        var random = new Random(seed);
        var keys = RandomKeys(random, 80);
        await PutAllAsync("data", keys);
        Assert.Equal(keys.Count, (await ListAsync()).Objects.Count);

        var prefixes = new List<string> { "", "a", "a/", "a/b", "é", "\uE000", "\U0001F600", "zz", "a-", "b/." };
        for (var i = 0; i < 6; i++)
        {
            var key = keys[random.Next(keys.Count)];
            prefixes.Add(key[..random.Next(key.Length + 1)]);
        }
        if (prefixes.Any(p => p.Length > 0 && char.IsHighSurrogate(p[^1])))
            prefixes = [.. prefixes.Select(p => p.Length > 0 && char.IsHighSurrogate(p[^1]) ? p[..^1] : p)];

        foreach (var prefix in prefixes.Distinct())
        {
            foreach (var delimiter in new[] { null, "/", "-", "é", "b/" })
            {
                var expected = Model(keys, prefix, delimiter);
                foreach (var pageSize in new[] { 1, 3, 7, 1000 })
                {
                    var pages = new List<ObjectListing>();
                    string? token = null;
                    do
                    {
                        var page = await ListAsync(prefix, delimiter, pageSize, token);
                        pages.Add(page);
                        token = page.NextContinuationToken;
                        Assert.True(pages.Count <= expected.Count + 1, "the listing must end");
                    }
                    while (token is not null);

                    var context = $"prefix '{prefix}', delimiter '{delimiter}', page size {pageSize}";
                    var expectedPages = expected.Chunk(pageSize).DefaultIfEmpty([]).ToList();
                    Assert.True(expectedPages.Count == pages.Count, $"{context}: {pages.Count} pages, expected {expectedPages.Count}");
                    for (var p = 0; p < pages.Count; p++)
                    {
                        Assert.Equal(expectedPages[p].Where(i => !i.IsPrefix).Select(i => i.Key), pages[p].Objects.Select(o => o.Key));
                        Assert.Equal(expectedPages[p].Where(i => i.IsPrefix).Select(i => i.Key), pages[p].CommonPrefixes);
                    }
                }
            }
        }
    }

    private static List<string> RandomKeys(Random random, int count)
    {
        string[] pieces = ["a", "b", "-", ".", "0", "é", "\uE000", "\U0001F600", "~", " ", "Z", "ab", "b."];
        var keys = new List<string>();
        while (keys.Count < count)
        {
            var segments = Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => pieces[random.Next(pieces.Length)])))
                .ToArray();
            if (segments.Any(s => s is "." or ".."))
                continue;
            var key = string.Join('/', segments);
            // A folder store cannot hold "x" and "x/y" together; S3 can, but that is not what this test is about.
            if (keys.Any(k => k == key || key.StartsWith(k + "/", StringComparison.Ordinal) || k.StartsWith(key + "/", StringComparison.Ordinal)))
                continue;
            keys.Add(key);
        }
        return keys;
    }

    /// <summary>S3's rules, the slow obvious way: sort by UTF-8 bytes, filter by prefix, fold at the first delimiter after it.</summary>
    private static List<(string Key, bool IsPrefix)> Model(IEnumerable<string> keys, string prefix, string? delimiter)
    {
        var sorted = keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)));
        var result = new List<(string, bool)>();
        foreach (var key in sorted)
        {
            var at = delimiter is null ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            if (at < 0)
                result.Add((key, false));
            else if (!result.Contains((key[..(at + delimiter!.Length)], true)))
                result.Add((key[..(at + delimiter.Length)], true));
        }
        return result;
    }
}
