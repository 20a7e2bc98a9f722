using Quilt.Operations.Models;

namespace Quilt.Mcp.Tests;

/// <summary>The bucket read tools over the S3 store, against the real S3 server on loopback: all of <see cref="BucketReadToolsTests"/> and what only S3 has.</summary>
public sealed class S3BucketReadToolsTests : BucketReadToolsTests
{
    private readonly S3ToolTestStore _s3;

    public S3BucketReadToolsTests() : this(new S3ToolTestStore())
    {
    }

    private S3BucketReadToolsTests(S3ToolTestStore s3) : base(s3) => _s3 = s3;

    [Fact]
    public async Task Versions_can_be_read_linked_and_deleted_one_by_one()
    {
        var bucket = await _s3.Server.CreateBucketAsync(versioned: true, TestContext.Current.CancellationToken);
        var settings = TestData.Settings(bucket, catalog: "catalog.example.com");
        await using var mcp = await McpHarness.StartAsync(settings, Store);
        var first = await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{bucket}}/v.txt", "text": "one"}]}""");
        var second = await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{bucket}}/v.txt", "text": "two!"}]}""");
        var v1 = first.Objects[0].VersionId;
        Assert.NotNull(v1);
        Assert.NotEqual(v1, second.Objects[0].VersionId);

        var old = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "s3://{{bucket}}/v.txt?versionId={{v1}}"}""");
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
        Assert.Equal("two!", (await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "s3://{{bucket}}/v.txt"}""")).Text);
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
}
