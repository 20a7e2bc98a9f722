using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;
using Parquet.Serialization;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests;

/// <summary>The read tools of <see cref="Tools.BucketReadTools"/> (list, info, text and previews, fetch, link), on each store.</summary>
public abstract class BucketReadToolsTests : BucketToolsTests
{
    private protected BucketReadToolsTests(ToolTestStore backing) : base(backing)
    {
    }

    [Fact]
    public async Task Buckets_list_shows_the_allowed_bucket_and_the_mode()
    {
        await using var mcp = await StartAsync(readOnly: true);
        var result = await mcp.CallOkAsync<BucketsListResult>("buckets_list");
        Assert.True(result.ReadOnly);
        Assert.True(result.Restricted);
        Assert.Equal([Bucket], result.Buckets.Select(b => b.Name));
        Assert.Equal($"s3://{Bucket}/", result.Buckets[0].Uri);
    }

    [Fact]
    public async Task Listing_pages_with_a_cursor_and_folds_folders_with_a_delimiter()
    {
        foreach (var key in new[] { "a/1.txt", "a/2.txt", "b/x/3.txt", "c.txt", "d.txt" })
            await PutAsync(key, Encoding.UTF8.GetBytes(key));
        await using var mcp = await StartAsync();

        var keys = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var args = cursor is null ? $$"""{"bucket": "{{Bucket}}", "pageSize": 2}""" : $$"""{"bucket": "{{Bucket}}", "pageSize": 2, "cursor": {{TestData.Json(cursor)}}}""";
            var page = await mcp.CallOkAsync<ObjectsListResult>("bucket_objects_list", args);
            Assert.True(page.Objects.Count <= 2);
            keys.AddRange(page.Objects.Select(o => o.Name));
            Assert.Equal(page.NextCursor is not null, page.Truncated);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 10);
        Assert.Equal(["a/1.txt", "a/2.txt", "b/x/3.txt", "c.txt", "d.txt"], keys);
        Assert.Equal(3, pages);

        var top = await mcp.CallOkAsync<ObjectsListResult>("bucket_objects_list", $$"""{"bucket": "s3://{{Bucket}}/", "delimiter": "/"}""");
        Assert.Equal(["c.txt", "d.txt"], top.Objects.Select(o => o.Name));
        Assert.Equal(["a/", "b/"], top.Folders);
        Assert.Equal(Uri("c.txt"), top.Base + top.Objects[0].Name);
        Assert.Equal(5, top.Objects[0].Size);

        var sub = await mcp.CallOkAsync<ObjectsListResult>("bucket_objects_list", $$"""{"bucket": "s3://{{Bucket}}/b/", "delimiter": "/"}""");
        Assert.Empty(sub.Objects);
        Assert.Equal(("b/", Uri("b/")), (sub.Prefix, sub.Base));
        Assert.Equal(["x/"], sub.Folders);
    }

    [Fact]
    public async Task Listing_gives_its_base_once_a_compact_text_and_links_to_the_first_objects()
    {
        for (var i = 0; i < 30; i++)
            await PutAsync($"logs/day-{i:00}.txt", Encoding.UTF8.GetBytes($"line {i}"));
        await using var mcp = await StartAsync();

        var result = await mcp.CallAsync("bucket_objects_list", $$"""{"bucket": "s3://{{Bucket}}/logs/"}""");
        Assert.False(result.IsError == true, McpHarness.Text(result));
        var listing = (ObjectsListResult)result.StructuredContent!.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(ObjectsListResult)))!;
        Assert.Equal(("logs/", Uri("logs/")), (listing.Prefix, listing.Base));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"day-{i:00}.txt"), listing.Objects.Select(o => o.Name));
        // No object repeats the base: no per-object URI, no full key.
        var objects = result.StructuredContent.Value.GetProperty("objects");
        Assert.All(objects.EnumerateArray(), o => Assert.False(o.TryGetProperty("uri", out _)));
        Assert.DoesNotContain("logs/", objects.GetRawText(), StringComparison.Ordinal);

        // The text is a listing to read, not the JSON again.
        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.StartsWith($"{Uri("logs/")}: 30 objects.", text, StringComparison.Ordinal);
        Assert.Matches(@"^6 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ day-00\.txt$", text.Split('\n')[2]); // bytes, modified, name
        Assert.EndsWith(" day-29.txt\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("{", text, StringComparison.Ordinal);

        // Links to the first 25 objects, each readable as it is given.
        var links = result.Content.OfType<ResourceLinkBlock>().ToList();
        Assert.Equal(25, links.Count);
        Assert.Equal(Uri("logs/day-00.txt"), links[0].Uri);
        Assert.Equal(("day-00.txt", ContentTypes.Guess("day-00.txt"), 6L), (links[0].Name, links[0].MimeType, links[0].Size));
        var read = await mcp.CallTextAsync("bucket_object_text", JsonSerializer.Serialize(new { uri = links[24].Uri }));
        Assert.Equal("line 24", read.Text);
    }

    [Fact]
    public async Task A_text_read_sends_the_text_once()
    {
        await PutAsync("once.txt", Encoding.UTF8.GetBytes("only once, please"));
        await using var mcp = await StartAsync();

        var result = await mcp.CallAsync("bucket_object_text", $$"""{"uri": "{{Uri("once.txt")}}"}""");
        Assert.Equal("only once, please", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        Assert.Equal(JsonValueKind.Null, result.StructuredContent!.Value.GetProperty("text").ValueKind);
        Assert.DoesNotContain("only once", result.StructuredContent.Value.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(17, result.StructuredContent.Value.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task Fetching_to_an_existing_file_needs_overwrite()
    {
        await PutAsync("f.txt", "new"u8.ToArray());
        var existing = Files.Combine("f.txt");
        await File.WriteAllTextAsync(existing, "old", TestContext.Current.CancellationToken);
        await using var mcp = await StartAsync(readOnly: true);

        var error = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "{{Uri("f.txt")}}", "destination": {{TestData.Json(existing)}}}""");
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Equal("old", await File.ReadAllTextAsync(existing, TestContext.Current.CancellationToken));

        await mcp.CallOkAsync<ObjectFetchResult>("bucket_object_fetch",
            $$"""{"uri": "{{Uri("f.txt")}}", "destination": {{TestData.Json(existing)}}, "overwrite": true}""");
        Assert.Equal("new", await File.ReadAllTextAsync(existing, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Small_objects_come_back_inline_as_image_text_or_base64()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        await PutAsync("img/pic.png", png, "image/png");
        await PutAsync("docs/readme.md", "# Title\n"u8.ToArray());
        await using var mcp = await StartAsync();

        var image = await mcp.CallAsync("bucket_object_fetch", $$"""{"uri": "{{Uri("img/pic.png")}}"}""");
        var block = Assert.Single(image.Content.OfType<ImageContentBlock>());
        Assert.Equal("image/png", block.MimeType);
        Assert.Equal(png, block.DecodedData.ToArray());

        var text = await mcp.CallAsync("bucket_object_fetch", $$"""{"uri": "{{Uri("docs/readme.md")}}"}""");
        var resource = Assert.IsType<TextResourceContents>(Assert.Single(text.Content.OfType<EmbeddedResourceBlock>()).Resource);
        Assert.Equal("# Title\n", resource.Text);
        var structured = text.StructuredContent!.Value.Deserialize<ObjectFetchResult>(ToolJson.Options)!;
        Assert.True(structured.Inline);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("# Title\n"u8)), structured.Sha256);
    }

    [Fact]
    public async Task Info_names_the_catalog_page_when_a_catalog_is_set()
    {
        await PutAsync("dir/info me.txt", "x"u8.ToArray());
        await using (var plain = await StartAsync())
            Assert.Null((await plain.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "{{Uri("dir/info%20me.txt")}}"}""")).CatalogUrl);
        await using var mcp = await StartAsync(catalog: "catalog.example.com");
        var info = await mcp.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "{{Uri("dir/info%20me.txt")}}"}""");
        // A local folder is no catalog's bucket: only S3 objects have a catalog page.
        Assert.Equal(Store.Scheme == "s3" ? $"https://catalog.example.com/b/{Bucket}/tree/dir/info%20me.txt" : null, info.CatalogUrl);
    }

    [Fact]
    public async Task Link_downloads_the_same_bytes_and_names_the_catalog_page()
    {
        var bytes = TestData.Bytes(300_000);
        await PutAsync("dir/file name.bin", bytes);
        await using var mcp = await StartAsync(catalog: "catalog.example.com");
        var link = await mcp.CallOkAsync<ObjectLinkResult>("bucket_object_link",
            $$"""{"uri": "s3://{{Bucket}}/dir/file%20name.bin", "expiresInSeconds": 600}""");
        Assert.Equal(bytes, await DownloadAsync(link.Url));
        Assert.InRange(link.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(500), DateTimeOffset.UtcNow.AddSeconds(700));
        if (Store.Scheme == "s3")
        {
            Assert.Equal($"https://catalog.example.com/b/{Bucket}/tree/dir/file%20name.bin", link.CatalogUrl);
            Assert.Null(link.Note);
        }
        else
        {
            Assert.Null(link.CatalogUrl);
            // A file:// URL is a path on the server's machine: the result says it cannot be shared.
            Assert.StartsWith("file://", link.Url, StringComparison.Ordinal);
            Assert.Contains("cannot be shared", link.Note, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Text_pages_split_between_characters_and_join_back()
    {
        var text = string.Concat(Enumerable.Repeat("añb€c😀|", 40));
        await PutAsync("utf8.txt", Encoding.UTF8.GetBytes(text));
        await using var mcp = await StartAsync();
        var sb = new StringBuilder();
        long? offset = 0;
        var calls = 0;
        while (offset is not null && calls++ < 100)
        {
            var page = await mcp.CallTextAsync("bucket_object_text",
                $$"""{"uri": "{{Uri("utf8.txt")}}", "format": "text", "offset": {{offset}}, "maxBytes": 7}""");
            Assert.DoesNotContain('\uFFFD', page.Text!);
            sb.Append(page.Text);
            offset = page.NextOffset;
        }
        Assert.Equal(text, sb.ToString());
    }

    [Fact]
    public async Task Previews_show_csv_tsv_json_and_jsonl_readably()
    {
        var csv = new StringBuilder("id,name,comment\n");
        for (var i = 0; i < 5000; i++)
            csv.Append(i).Append(",name ").Append(i).Append(",\"quoted, with \"\"quotes\"\" and\nnewline\"\n");
        await PutAsync("t/table.csv", Encoding.UTF8.GetBytes(csv.ToString()));
        await PutAsync("t/table.tsv", "a\tb\n1\t2\n3\t4\n"u8.ToArray());
        await PutAsync("t/doc.json", """{"name":"x","items":[1,2,3],"nested":{"k":"v"}}"""u8.ToArray());
        await PutAsync("t/lines.jsonl", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $"{{\"i\":{i}}}\n"))));
        await using var mcp = await StartAsync();

        var table = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("t/table.csv")}}", "rows": 3}""");
        Assert.Equal("csv", table.Format);
        Assert.Equal(["id", "name", "comment"], table.Columns!.Select(c => c.Name));
        Assert.Equal(3, table.Rows!.Count);
        Assert.Equal(["1", "name 1", "quoted, with \"quotes\" and\nnewline"], table.Rows[1]);
        Assert.True(table.Truncated);
        Assert.True(table.BytesRead < csv.Length, "a preview must not read the whole file");
        Assert.Contains("| id | name | comment |", table.Text, StringComparison.Ordinal);

        var tsv = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("t/table.tsv")}}"}""");
        Assert.Equal("tsv", tsv.Format);
        Assert.Equal([["1", "2"], ["3", "4"]], tsv.Rows!.Select(r => r.ToArray()));
        Assert.False(tsv.Truncated);

        var json = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("t/doc.json")}}"}""");
        Assert.Equal("json", json.Format);
        Assert.Contains("keys: name, items, nested", json.Text, StringComparison.Ordinal);
        Assert.Contains("\n  \"items\": [", json.Text, StringComparison.Ordinal);

        var lines = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("t/lines.jsonl")}}", "rows": 5}""");
        Assert.Equal("jsonl", lines.Format);
        Assert.EndsWith("{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}", lines.Text, StringComparison.Ordinal);
        Assert.True(lines.Truncated);

        // The raw text is still there on request.
        var raw = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("t/table.tsv")}}", "format": "text"}""");
        Assert.Equal("a\tb\n1\t2\n3\t4\n", raw.Text);
    }

    private sealed record Measurement(int Id, string Site, double Value, DateTime Taken);

    private sealed class Nested
    {
        public int? Score { get; set; }
        public List<int> Tags { get; set; } = [];
        public string? Label { get; set; }
    }

    [Fact]
    public async Task Parquet_preview_shows_nulls_and_lists()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new Nested { Score = i % 3 == 0 ? null : i, Tags = [i, i + 1], Label = i == 1 ? null : $"L{i}" }).ToList();
        using var buffer = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, buffer, cancellationToken: TestContext.Current.CancellationToken);
        await PutAsync("p/nested.parquet", buffer.ToArray());
        await using var mcp = await StartAsync();

        var preview = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("p/nested.parquet")}}", "rows": 3}""");
        Assert.Equal(10, preview.RowCount);
        Assert.Null(preview.Note);
        Assert.Equal(3, preview.Rows!.Count);
        Assert.Equal([null, "[0, 1]", "L0"], preview.Rows[0]);
        Assert.Equal(["1", "[1, 2]", null], preview.Rows[1]);
        Assert.Contains(preview.Columns!, c => c.Name == "Score" && c.Nullable == true);
    }

    [Fact]
    public async Task Parquet_preview_shows_schema_row_count_and_first_rows()
    {
        var rows = Enumerable.Range(0, 1000).Select(i => new Measurement(i, $"site-{i % 7}", i * 0.5, new DateTime(2024, 1, 1).AddHours(i))).ToList();
        using var buffer = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, buffer, cancellationToken: TestContext.Current.CancellationToken);
        await PutAsync("p/measurements.parquet", buffer.ToArray());
        await using var mcp = await StartAsync();

        var preview = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("p/measurements.parquet")}}", "rows": 4}""");
        Assert.Equal("parquet", preview.Format);
        Assert.Equal(1000, preview.RowCount);
        Assert.Equal(["Id", "Site", "Value", "Taken"], preview.Columns!.Select(c => c.Name));
        Assert.Equal(["int32", "string", "double", "timestamp"], preview.Columns!.Select(c => c.Type));
        Assert.Equal(4, preview.Rows!.Count);
        Assert.Equal(["2", "site-2", "1", "2024-01-01T02:00:00"], preview.Rows[2]);
        Assert.True(preview.Truncated);
        Assert.Contains("1,000 rows", preview.Text, StringComparison.Ordinal);

        var error = await mcp.CallErrorAsync("bucket_object_text", $$"""{"uri": "{{Uri("p/measurements.parquet")}}", "format": "text"}""");
        Assert.Contains("Parquet", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_download_leaves_no_file()
    {
        var source = Files.Combine("to-fetch.bin");
        await File.WriteAllBytesAsync(source, TestData.Bytes(64 * 1024 * 1024), TestContext.Current.CancellationToken);
        await using (var content = File.OpenRead(source))
        {
            await Store.PutAsync(new PutRequest(Bucket, "to-fetch.bin") { Length = content.Length }, content,
                cancellationToken: TestContext.Current.CancellationToken);
        }
        await using var mcp = await StartAsync();
        var target = Path.Join(Files.Path, "fetched");
        Directory.CreateDirectory(target);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new ProgressLog();
        progress.Reported += _ => cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mcp.CallCancellableAsync("bucket_object_fetch",
            $$"""{"uri": "{{Uri("to-fetch.bin")}}", "destination": {{TestData.Json(target)}}}""", progress, cts.Token));
        // The server stops at its next read or write and removes its temporary file; nothing may ever appear.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            Assert.DoesNotContain(Directory.GetFiles(target), f => !f.EndsWith(".partial", StringComparison.Ordinal));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        Assert.Empty(Directory.GetFiles(target));
    }
}

public sealed class LocalBucketReadToolsTests() : BucketReadToolsTests(new LocalToolTestStore());
