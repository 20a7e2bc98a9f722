using System.Security.Cryptography;
using System.Text;
using ModelContextProtocol.Protocol;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tests;

/// <summary>The write tools of <see cref="Tools.BucketWriteTools"/> (put, copy, delete), on each store.</summary>
public abstract class BucketWriteToolsTests : BucketToolsTests
{
    private protected BucketWriteToolsTests(ToolTestStore backing) : base(backing)
    {
    }

    [Fact]
    public async Task Put_then_info_text_fetch_copy_and_delete_small_objects()
    {
        await using var mcp = await StartAsync();
        var put = await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$$"""
            {"objects": [
              {"uri": "{{{Uri("notes/hello.txt")}}}", "text": "héllo wörld\n", "metadata": {"Owner": "Zoë", "purpose": "test"} },
              {"uri": "quilt+s3://{{{Bucket}}}#path=bin/data.bin", "base64": "{{{Convert.ToBase64String([0, 1, 2, 255])}}}", "contentType": "application/x-thing"}
            ]}
            """);
        Assert.Equal(2, put.Objects.Count);
        Assert.Equal(Encoding.UTF8.GetByteCount("héllo wörld\n") + 4, put.TotalBytes);
        Assert.Equal("héllo wörld\n"u8.ToArray(), await ReadAsync("notes/hello.txt"));
        Assert.Equal([0, 1, 2, 255], await ReadAsync("bin/data.bin"));

        var info = await mcp.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "{{Uri("notes/hello.txt")}}"}""");
        Assert.Equal(Encoding.UTF8.GetByteCount("héllo wörld\n"), info.Size);
        Assert.StartsWith("text/plain", info.ContentType, StringComparison.Ordinal);
        Assert.Equal("Zoë", info.Metadata["owner"]);
        Assert.Equal("test", info.Metadata["purpose"]);
        Assert.False(string.IsNullOrEmpty(info.ETag));

        var binInfo = await mcp.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "{{Uri("bin/data.bin")}}"}""");
        Assert.Equal("application/x-thing", binInfo.ContentType);

        var text = await mcp.CallTextAsync("bucket_object_text", $$"""{"uri": "{{Uri("notes/hello.txt")}}"}""");
        Assert.Equal("héllo wörld\n", text.Text);
        Assert.Null(text.NextOffset);
        Assert.False(text.Truncated);

        var fetched = await mcp.CallAsync("bucket_object_fetch", $$"""{"uri": "{{Uri("bin/data.bin")}}"}""");
        var blob = Assert.IsType<BlobResourceContents>(Assert.Single(fetched.Content.OfType<EmbeddedResourceBlock>()).Resource);
        Assert.Equal([0, 1, 2, 255], blob.DecodedData.ToArray());

        var copy = await mcp.CallOkAsync<ObjectCopyResult>("bucket_object_copy", $$"""
            {"source": "{{Uri("notes/hello.txt")}}", "destination": "{{Uri("archive/")}}"}
            """);
        Assert.Equal(Uri("archive/hello.txt"), copy.Destination);
        Assert.Equal("héllo wörld\n"u8.ToArray(), await ReadAsync("archive/hello.txt"));

        var deleted = await mcp.CallOkAsync<ObjectDeleteResult>("bucket_object_delete", $$"""{"uri": "{{Uri("notes/hello.txt")}}"}""");
        Assert.True(deleted.Existed);
        var again = await mcp.CallOkAsync<ObjectDeleteResult>("bucket_object_delete", $$"""{"uri": "{{Uri("notes/hello.txt")}}"}""");
        Assert.False(again.Existed);
        Assert.Equal(["archive/hello.txt", "bin/data.bin"], (await KeysAsync(Bucket)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Large_file_goes_up_from_a_path_and_down_to_a_path_with_progress()
    {
        var bytes = TestData.TextBytes(20 * 1024 * 1024 + 13);
        var source = Files.Combine("big.bin");
        await File.WriteAllBytesAsync(source, bytes, TestContext.Current.CancellationToken);
        await using var mcp = await StartAsync();

        var up = new ProgressLog();
        var put = await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put",
            $$"""{"objects": [{"uri": "{{Uri("big/big.bin")}}", "localPath": {{TestData.Json(source)}}}]}""", up);
        Assert.Equal(bytes.Length, put.TotalBytes);
        await AssertProgressAsync(up, bytes.Length);

        var down = new ProgressLog();
        var target = Path.Join(Files.Path, "out");
        Directory.CreateDirectory(target);
        var fetched = await mcp.CallOkAsync<ObjectFetchResult>("bucket_object_fetch",
            $$"""{"uri": "{{Uri("big/big.bin")}}", "destination": {{TestData.Json(target)}}}""", down);
        Assert.False(fetched.Inline);
        Assert.Equal(Path.Join(target, "big.bin"), fetched.Path);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(fetched.Path!, TestContext.Current.CancellationToken));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), fetched.Sha256);
        await AssertProgressAsync(down, bytes.Length);
        Assert.Empty(Directory.GetFiles(target, "*.partial"));

        // Too big to inline: a clear error that points at the destination parameter.
        var error = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "{{Uri("big/big.bin")}}"}""");
        Assert.Contains("inline limit", error, StringComparison.Ordinal);
        Assert.Contains("destination", error, StringComparison.Ordinal);

        // The text tool reads a page, never the whole object.
        var page = await mcp.CallTextAsync("bucket_object_text",
            $$"""{"uri": "{{Uri("big/big.bin")}}", "maxBytes": 1000}""");
        Assert.Equal(1000, page.BytesRead);
        Assert.Equal(1000, page.NextOffset);
        Assert.True(page.Truncated);
        Assert.Equal(Encoding.ASCII.GetString(bytes, 0, 1000), page.Text);
    }

    [Fact]
    public async Task Overwrite_false_refuses_existing_targets_and_writes_nothing()
    {
        await PutAsync("exists.txt", "original"u8.ToArray());
        await using var mcp = await StartAsync();
        var error = await mcp.CallErrorAsync("bucket_objects_put", $$"""
            {"overwrite": false, "objects": [
              {"uri": "{{Uri("fresh.txt")}}", "text": "new"},
              {"uri": "{{Uri("exists.txt")}}", "text": "replacement"}
            ]}
            """);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", error, StringComparison.Ordinal);
        Assert.Equal(["exists.txt"], await KeysAsync(Bucket));
        Assert.Equal("original"u8.ToArray(), await ReadAsync("exists.txt"));

        var copyError = await mcp.CallErrorAsync("bucket_object_copy",
            $$"""{"source": "{{Uri("exists.txt")}}", "destination": "{{Uri("exists.txt")}}"}""");
        Assert.Contains("same object", copyError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_an_upload_leaves_no_object()
    {
        var source = Files.Combine("cancel.bin");
        await File.WriteAllBytesAsync(source, TestData.Bytes(64 * 1024 * 1024), TestContext.Current.CancellationToken);
        // The source stalls after 20 MiB (past the first multipart parts, whose upload sends the first progress), as a
        // slow disk would, until the call is cancelled: the cancel always lands mid-upload, however fast the store writes.
        await using var mcp = await McpHarness.StartAsync(TestData.Settings(Bucket), new StallingSourceStore(Store, 20 << 20));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new ProgressLog();
        progress.Reported += _ => cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mcp.CallCancellableAsync("bucket_objects_put",
            $$"""{"objects": [{"uri": "{{Uri("cancelled.bin")}}", "localPath": {{TestData.Json(source)}}}]}""", progress, cts.Token));
        Assert.NotEmpty(progress.Values);
        await AssertNoUploadLeftAsync("cancelled.bin");
    }
}

public sealed class LocalBucketWriteToolsTests() : BucketWriteToolsTests(new LocalToolTestStore());
