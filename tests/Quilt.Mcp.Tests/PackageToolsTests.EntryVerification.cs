using System.Text;
using System.Text.Json;
using Quilt.Core.Hashing;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// Package entries whose data was changed in S3 after the revision was made (same key, other bytes: an unversioned bucket
/// keeps no old version): every read of a whole entry is checked against the recorded size and hash, and refuses.
/// </summary>
public sealed class PackageToolsEntryVerificationTests : IAsyncLifetime
{
    private const string Original = "name,count\nalpha,1\nbeta,2\n";
    private McpHarness? _mcp;
    private S3TestServer _server = null!;
    private IObjectStore _store = null!;
    private string _bucket = "";
    private readonly TempDirectory _folder = new();

    private McpHarness Mcp => _mcp!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await S3TestServer.GetAsync();
        _bucket = await _server.CreateBucketAsync(versioned: false, Ct);
        _store = _server.CreateStore();
        _mcp = await McpHarness.StartAsync(TestData.Settings(_bucket), _store);
        await Mcp.CallOkAsync<PackageRevisionResult>("package_create", JsonSerializer.Serialize(new
        {
            package = "team/checked",
            sources = new object[]
            {
                new { text = Original, logicalKey = "table.csv" },
                new { text = Encoding.ASCII.GetString(TestData.TextBytes(300_000)), logicalKey = "long.txt" },
            },
        }));
    }

    public async ValueTask DisposeAsync()
    {
        if (_mcp is not null)
            await _mcp.DisposeAsync();
        (_store as IDisposable)?.Dispose();
        _folder.Dispose();
    }

    private Task TamperAsync(string text) =>
        _store.PutAsync(new PutRequest(_bucket, "team/checked/table.csv"), new MemoryStream(Encoding.UTF8.GetBytes(text)), null, Ct);

    private static string Chunked(string text) => ObjectHashing.Compute(Encoding.UTF8.GetBytes(text)).Value;

    [Fact]
    public async Task Whole_reads_of_an_untouched_entry_say_they_were_verified_and_pages_say_they_were_not()
    {
        var text = await Mcp.CallTextAsync("package_entry_text", """{"package": "team/checked", "path": "table.csv", "format": "text"}""");
        Assert.Equal(Original, text.Text);
        Assert.True(text.Verified);

        var page = await Mcp.CallTextAsync("package_entry_text", """{"package": "team/checked", "path": "long.txt", "maxBytes": 1000}""");
        Assert.False(page.Verified);
        Assert.Contains("cannot be checked", page.Verification, StringComparison.Ordinal);

        var inline = await Mcp.CallOkAsync<ObjectFetchResult>("package_entry_fetch", """{"package": "team/checked", "path": "table.csv"}""");
        Assert.True(inline.Verified);
        var saved = await Mcp.CallOkAsync<ObjectFetchResult>("package_entry_fetch",
            JsonSerializer.Serialize(new { package = "team/checked", path = "long.txt", destination = _folder.Combine("long.txt") }));
        Assert.True(saved.Verified);
        Assert.Equal(TestData.TextBytes(300_000), await File.ReadAllBytesAsync(_folder.Combine("long.txt"), Ct));
    }

    [Theory]
    [InlineData("name,count\nalpha,9\nbeta,2\n")] // same size, other bytes
    [InlineData("name,count\nalpha,1\nbeta,2\ngamma,3\n")] // another size
    public async Task Text_and_fetch_of_a_changed_entry_fail_naming_both_hashes_and_save_nothing(string tampered)
    {
        await TamperAsync(tampered);
        var expected = Chunked(Original);
        var actual = Chunked(tampered);

        void AssertNamesBoth(string error)
        {
            Assert.Contains("'table.csv'", error, StringComparison.Ordinal);
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.Contains(actual, error, StringComparison.Ordinal);
            Assert.Contains($"{Original.Length:N0} bytes", error, StringComparison.Ordinal);
            Assert.Contains($"{tampered.Length:N0} bytes", error, StringComparison.Ordinal);
        }

        AssertNamesBoth(await Mcp.CallErrorAsync("package_entry_text", """{"package": "team/checked", "path": "table.csv", "format": "text"}"""));
        AssertNamesBoth(await Mcp.CallErrorAsync("package_entry_text", """{"package": "team/checked", "path": "table.csv"}""")); // CSV preview
        AssertNamesBoth(await Mcp.CallErrorAsync("bucket_object_text",
            JsonSerializer.Serialize(new { uri = $"quilt+s3://{_bucket}#package=team/checked&path=table.csv", format = "text" })));
        AssertNamesBoth(await Mcp.CallErrorAsync("package_entry_fetch", """{"package": "team/checked", "path": "table.csv"}"""));

        // To a new file: nothing appears. Over an existing file: it stays as it was. No temporary file is left either.
        var fresh = _folder.Combine("fresh.csv");
        AssertNamesBoth(await Mcp.CallErrorAsync("package_entry_fetch", JsonSerializer.Serialize(new { package = "team/checked", path = "table.csv", destination = fresh })));
        Assert.False(File.Exists(fresh));
        var existing = _folder.Combine("existing.csv");
        await File.WriteAllTextAsync(existing, "mine", Ct);
        AssertNamesBoth(await Mcp.CallErrorAsync("package_entry_fetch",
            JsonSerializer.Serialize(new { package = "team/checked", path = "table.csv", destination = existing, overwrite = true })));
        Assert.Equal("mine", await File.ReadAllTextAsync(existing, Ct));
        Assert.Equal([existing], Directory.GetFiles(_folder.Path));

        // The plain object is still readable as an object: only reads as the package entry are refused.
        var asObject = await Mcp.CallTextAsync("bucket_object_text",
            JsonSerializer.Serialize(new { uri = $"s3://{_bucket}/team/checked/table.csv", format = "text" }));
        Assert.Equal(tampered, asObject.Text);
        Assert.Null(asObject.Verified);
    }

    [Fact]
    public async Task A_page_of_an_entry_whose_size_changed_is_refused_without_reading_the_rest()
    {
        await _store.PutAsync(new PutRequest(_bucket, "team/checked/long.txt"), new MemoryStream(TestData.TextBytes(300_001)), null, Ct);
        var error = await Mcp.CallErrorAsync("package_entry_text", """{"package": "team/checked", "path": "long.txt", "maxBytes": 1000}""");
        Assert.Contains("300,000 bytes", error, StringComparison.Ordinal);
        Assert.Contains("300,001 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_package_made_from_a_changed_entry_of_another_copies_nothing_and_one_that_references_it_keeps_its_record()
    {
        const string Tampered = "name,count\nalpha,9\nbeta,2\n";
        await TamperAsync(Tampered);
        var entryUri = $"quilt+s3://{_bucket}#package=team/checked&path=table.csv";

        // Copied into the new package: read whole, so checked against the entry's hash, and refused; nothing published.
        var error = await Mcp.CallErrorAsync("package_create", JsonSerializer.Serialize(new { package = "team/copied", sources = new[] { new { uri = entryUri } } }));
        Assert.Contains(Chunked(Original), error, StringComparison.Ordinal);
        Assert.Contains(Chunked(Tampered), error, StringComparison.Ordinal);
        Assert.Empty((await _store.ListAsync(new ListRequest(_bucket, "team/copied/"), Ct)).Objects);
        Assert.Empty((await _store.ListAsync(new ListRequest(_bucket, ".quilt/named_packages/team/copied/"), Ct)).Objects);

        // Referenced in place: nothing is read, and the entry keeps the size and hash its package recorded (so reads refuse).
        await Mcp.CallOkAsync<PackageRevisionResult>("package_create", JsonSerializer.Serialize(new
        {
            package = "team/referenced",
            copy = false,
            sources = new[] { new { uri = entryUri, logicalKey = "data/table.csv" } },
        }));
        var browsed = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/referenced", "path": "data/"}""");
        var file = Assert.Single(browsed.Files);
        Assert.Equal(Original.Length, file.Size);
        Assert.Contains(Chunked(Original), await Mcp.CallErrorAsync("package_entry_text", """{"package": "team/referenced", "path": "data/table.csv", "format": "text"}"""),
            StringComparison.Ordinal);
    }
}
