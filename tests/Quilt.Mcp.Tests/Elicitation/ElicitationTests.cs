using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Tests.Capabilities;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests.Elicitation;

/// <summary>
/// Destructive and expensive calls ask the user first when the client can be asked: declined or cancelled, nothing is
/// done and the tool says so; accepted, the call goes ahead; a client without elicitation is not asked.
/// </summary>
public sealed class ElicitationTests : InteractionTests
{
    private readonly Received<ElicitRequestParams> _asked = new();

    private Task<McpHarness> StartAnsweringAsync(string action, bool? confirm = null, Func<Quilt.Mcp.Configuration.ServerSettings, Quilt.Mcp.Configuration.ServerSettings>? settings = null) =>
        StartAsync(new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    _asked.Add(request!);
                    return ValueTask.FromResult(new ElicitResult
                    {
                        Action = action,
                        Content = confirm is { } value ? new Dictionary<string, JsonElement> { ["confirm"] = JsonSerializer.SerializeToElement(value) } : null,
                    });
                },
            },
        }, settings);

    [Theory]
    [InlineData("decline", null, "declined")]
    [InlineData("cancel", null, "cancelled")]
    [InlineData("accept", false, "not confirmed")]
    public async Task ADeleteTheUserDoesNotConfirmDoesNothing(string action, bool? confirm, string said)
    {
        await PutAsync("keep.txt", "x");
        var mcp = await StartAnsweringAsync(action, confirm);
        var error = await mcp.CallErrorAsync("bucket_object_delete", $$"""{"uri": "s3://{{Bucket}}/keep.txt"}""");
        Assert.Contains(said, error, StringComparison.Ordinal);
        Assert.Contains("Nothing was done", error, StringComparison.Ordinal);
        Assert.True(await ExistsAsync("keep.txt"));
        var question = Assert.Single(_asked.Items);
        Assert.Contains($"s3://{Bucket}/keep.txt", question.Message, StringComparison.Ordinal);
        Assert.True(question.RequestedSchema!.Properties.ContainsKey("confirm"));
    }

    [Fact]
    public async Task AConfirmedDeleteGoesAhead()
    {
        await PutAsync("gone.txt", "x");
        var mcp = await StartAnsweringAsync("accept", true);
        var result = await mcp.CallOkAsync<ObjectDeleteResult>("bucket_object_delete", $$"""{"uri": "s3://{{Bucket}}/gone.txt"}""");
        Assert.True(result.Existed);
        Assert.False(await ExistsAsync("gone.txt"));
        Assert.Single(_asked.Items);
    }

    [Fact]
    public async Task AClientWithoutElicitationIsNotAsked()
    {
        await PutAsync("gone.txt", "x");
        var mcp = await StartAsync();
        await mcp.CallOkAsync<ObjectDeleteResult>("bucket_object_delete", $$"""{"uri": "s3://{{Bucket}}/gone.txt"}""");
        Assert.False(await ExistsAsync("gone.txt"));
    }

    [Fact]
    public async Task RevisionDeleteAndPackageOverwriteAskFirst()
    {
        var mcp = await StartAnsweringAsync("decline");
        // A new package is not an overwrite: nothing to ask.
        var created = await mcp.CallOkAsync<PackageRevisionResult>("package_create",
            """{"package": "team/data", "sources": [{"text": "a", "logicalKey": "a.txt"}], "overwrite": true}""");
        Assert.Empty(_asked.Items);

        var overwrite = await mcp.CallErrorAsync("package_create", """{"package": "team/data", "sources": [{"text": "b", "logicalKey": "b.txt"}], "overwrite": true}""");
        Assert.Contains("declined", overwrite, StringComparison.Ordinal);
        Assert.Contains("team/data", Assert.Single(_asked.Items).Message, StringComparison.Ordinal);

        var delete = await mcp.CallErrorAsync("package_revision_delete", $$"""{"package": "team/data", "topHash": "{{created.TopHash}}"}""");
        Assert.Contains("declined", delete, StringComparison.Ordinal);
        Assert.Equal(2, _asked.Items.Count);
        Assert.Contains("last revision", _asked.Items[1].Message, StringComparison.Ordinal);

        var revisions = await mcp.CallOkAsync<PackageRevisionList>("package_revisions", """{"package": "team/data"}""");
        Assert.Equal([created.TopHash], revisions.Revisions.Select(r => r.TopHash));
    }

    [Fact]
    public async Task AFetchAsksBeforeReplacingAnExistingFileOnly()
    {
        await PutAsync("data/file.txt", "new");
        var mcp = await StartAnsweringAsync("decline");
        var folder = Directory.CreateDirectory(Path.Join(Files.Path, "out")).FullName;
        var uri = $"s3://{Bucket}/data/file.txt";

        await mcp.CallOkAsync<JsonElement>("bucket_object_fetch", $$"""{"uri": "{{uri}}", "destination": {{TestData.Json(folder)}}, "overwrite": true}""");
        Assert.Empty(_asked.Items);

        var existing = Path.Join(folder, "file.txt");
        await File.WriteAllTextAsync(existing, "old", TestContext.Current.CancellationToken);
        var error = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "{{uri}}", "destination": {{TestData.Json(folder)}}, "overwrite": true}""");
        Assert.Contains("Nothing was done", error, StringComparison.Ordinal);
        Assert.Equal("old", await File.ReadAllTextAsync(existing, TestContext.Current.CancellationToken));
        Assert.Contains(existing, Assert.Single(_asked.Items).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUploadOverTheThresholdAsksFirst()
    {
        var mcp = await StartAnsweringAsync("decline", settings: s => s with { ConfirmUploadBytes = 100 });
        var small = LocalFile("small.bin", new string('s', 100));
        var large = LocalFile("large.bin", new string('l', 101));

        await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/small.bin", "localPath": {{TestData.Json(small)}}}]}""");
        Assert.Empty(_asked.Items);

        var error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/large.bin", "localPath": {{TestData.Json(large)}}}]}""");
        Assert.Contains("declined", error, StringComparison.Ordinal);
        Assert.False(await ExistsAsync("large.bin"));
        Assert.Contains("101 bytes", Assert.Single(_asked.Items).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APutOrCopyOverAnExistingObjectAsksFirstAndANewKeyDoesNot()
    {
        await PutAsync("old.txt", "old");
        await PutAsync("src.txt", "source");
        var mcp = await StartAnsweringAsync("decline");

        // Nothing to replace: not asked.
        await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/new.txt", "text": "n"}]}""");
        await mcp.CallOkAsync<ObjectCopyResult>("bucket_object_copy", $$"""{"source": "s3://{{Bucket}}/src.txt", "destination": "s3://{{Bucket}}/copy/"}""");
        Assert.Empty(_asked.Items);

        // Over an existing object (overwrite is the default): asked, and declined, nothing is written.
        var put = await mcp.CallErrorAsync("bucket_objects_put", $$"""
            {"objects": [{"uri": "s3://{{Bucket}}/other.txt", "text": "o"}, {"uri": "s3://{{Bucket}}/old.txt", "text": "new"}]}
            """);
        Assert.Contains("declined", put, StringComparison.Ordinal);
        Assert.Contains($"Replace the existing object s3://{Bucket}/old.txt?", Assert.Single(_asked.Items).Message, StringComparison.Ordinal);
        Assert.False(await ExistsAsync("other.txt"));
        var copy = await mcp.CallErrorAsync("bucket_object_copy", $$"""{"source": "s3://{{Bucket}}/src.txt", "destination": "s3://{{Bucket}}/old.txt"}""");
        Assert.Contains("Nothing was done", copy, StringComparison.Ordinal);
        Assert.Contains($"s3://{Bucket}/old.txt", _asked.Items[1].Message, StringComparison.Ordinal);
        Assert.Equal("old", await ReadAsync("old.txt"));

        // overwrite: false is not asked: the write itself refuses an existing key.
        var refused = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/old.txt", "text": "new"}], "overwrite": false}""");
        Assert.Contains("already exists", refused, StringComparison.Ordinal);
        Assert.Equal(2, _asked.Items.Count);
    }

    [Fact]
    public async Task AConfirmedPutReplacesTheObject()
    {
        await PutAsync("old.txt", "old");
        var mcp = await StartAnsweringAsync("accept", true);
        await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/old.txt", "text": "replaced"}]}""");
        Assert.Single(_asked.Items);
        Assert.Equal("replaced", await ReadAsync("old.txt"));
    }

    private async Task<string> ReadAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(new ObjectRef(Bucket, key), null, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
    }
}
