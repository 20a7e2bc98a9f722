using System.Text;
using Amazon.S3.Model;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>The object tools over the S3 store, against the real S3 server on loopback.</summary>
public sealed class S3ObjectToolTests : ObjectToolTests
{
    private S3TestServer _server = null!;
    private IDisposable? _store;

    private protected override async Task<(IObjectStore Store, string Bucket, string OtherBucket)> OpenStoreAsync()
    {
        _server = await S3TestServer.GetAsync();
        var store = _server.CreateStore();
        _store = store;
        var bucket = await _server.CreateBucketAsync(cancellationToken: TestContext.Current.CancellationToken);
        var other = await _server.CreateBucketAsync(cancellationToken: TestContext.Current.CancellationToken);
        return (store, bucket, other);
    }

    private protected override async Task<byte[]> DownloadAsync(string url)
    {
        Assert.StartsWith(_server.EndpointUrl, url, StringComparison.Ordinal);
        // A plain client with no credentials: the URL alone must be enough.
        using var http = new HttpClient();
        return await http.GetByteArrayAsync(new Uri(url), TestContext.Current.CancellationToken);
    }

    private protected override async Task AssertNothingHalfWrittenAsync(string key)
    {
        async Task<List<MultipartUpload>> OpenUploads() =>
            (await _server.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = key },
                TestContext.Current.CancellationToken)).MultipartUploads ?? [];
        for (var i = 0; i < 250 && (await OpenUploads()).Count > 0; i++)
            await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Empty(await OpenUploads());
    }

    [Fact]
    public async Task Versions_can_be_read_linked_and_deleted_one_by_one()
    {
        var bucket = await _server.CreateBucketAsync(versioned: true, TestContext.Current.CancellationToken);
        var settings = TestData.Settings(bucket, catalog: "catalog.example.com");
        await using var mcp = await McpHarness.StartAsync(settings, Store);
        var first = await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{bucket}}/v.txt", "text": "one"}]}""");
        var second = await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{bucket}}/v.txt", "text": "two!"}]}""");
        var v1 = first.Objects[0].VersionId;
        Assert.NotNull(v1);
        Assert.NotEqual(v1, second.Objects[0].VersionId);

        var old = await mcp.CallOkAsync<ObjectTextResult>("bucket_object_text", $$"""{"uri": "s3://{{bucket}}/v.txt?versionId={{v1}}"}""");
        Assert.Equal("one", old.Text);
        var current = await mcp.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "s3://{{bucket}}/v.txt"}""");
        Assert.Equal(4, current.Size);
        Assert.Equal(second.Objects[0].VersionId, current.VersionId);

        var link = await mcp.CallOkAsync<ObjectLinkResult>("bucket_object_link", $$"""{"uri": "s3://{{bucket}}/v.txt?versionId={{v1}}"}""");
        Assert.Equal("one"u8.ToArray(), await DownloadAsync(link.Url));
        Assert.Equal($"https://catalog.example.com/b/{bucket}/tree/v.txt?version={System.Uri.EscapeDataString(v1)}", link.CatalogUrl);

        var deleted = await mcp.CallOkAsync<ObjectDeleteResult>("bucket_object_delete", $$"""{"uri": "s3://{{bucket}}/v.txt?versionId={{v1}}"}""");
        Assert.True(deleted.Existed);
        var error = await mcp.CallErrorAsync("bucket_object_text", $$"""{"uri": "s3://{{bucket}}/v.txt?versionId={{v1}}"}""");
        Assert.Contains("No object at", error, StringComparison.Ordinal);
        Assert.Equal("two!", (await mcp.CallOkAsync<ObjectTextResult>("bucket_object_text", $$"""{"uri": "s3://{{bucket}}/v.txt"}""")).Text);
    }

    [Fact]
    public async Task A_bucket_that_does_not_exist_is_a_clear_error()
    {
        var missing = "missing-" + Guid.NewGuid().ToString("N")[..12];
        await using var mcp = await McpHarness.StartAsync(TestData.Settings(missing), Store);
        var error = await mcp.CallErrorAsync("bucket_objects_list", $$"""{"bucket": "{{missing}}"}""");
        Assert.Contains($"Bucket '{missing}'", error, StringComparison.Ordinal);
        error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{missing}}/a.txt", "text": "x"}]}""");
        Assert.Contains(missing, error, StringComparison.Ordinal);
        Assert.Contains("No object was written", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_and_content_type_survive_the_round_trip()
    {
        await using var mcp = await StartAsync();
        await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$$"""
            {"objects": [{"uri": "{{{Uri("m/data.csv")}}}", "text": "a,b\n1,2\n", "metadata": {"project": "alpha", "Run-Id": "42"} }]}
            """);
        var info = await mcp.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "{{Uri("m/data.csv")}}"}""");
        Assert.Equal("text/csv", info.ContentType);
        Assert.Equal("alpha", info.Metadata["project"]);
        Assert.Equal("42", info.Metadata["run-id"]);
        Assert.Equal(Encoding.UTF8.GetByteCount("a,b\n1,2\n"), info.Size);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _store?.Dispose();
    }
}
