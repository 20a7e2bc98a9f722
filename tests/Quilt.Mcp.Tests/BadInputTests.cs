using System.Security.Cryptography;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// Every tool with bad input: each call is a tool error (isError) whose text names the problem, and nothing in
/// the store changes. Runs on the local store; the checks happen before storage is touched.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private const string Bucket = "data-bucket";
    private readonly TempDirectory _root = new();
    private readonly TempDirectory _files = new();
    private readonly LocalFolderStore _store;

    public BadInputTests()
    {
        _store = new LocalFolderStore(_root.Path);
        Directory.CreateDirectory(Path.Join(_root.Path, "other-bucket"));
        Write("data-bucket/small.txt", "hello"u8.ToArray());
        Write("data-bucket/bin.dat", [1, 0, 2, 0, 3]);
        Write("data-bucket/big.txt", TestData.TextBytes(2000));
        Write("other-bucket/secret.txt", "secret"u8.ToArray());
        File.WriteAllBytes(_files.Combine("local.txt"), "local"u8.ToArray());
        File.WriteAllBytes(_files.Combine("existing.txt"), "keep"u8.ToArray());
    }

    private void Write(string relative, byte[] bytes)
    {
        var path = Path.Join(_root.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Every file under the root with a hash of its content, housekeeping included.</summary>
    private Dictionary<string, string> Snapshot() =>
        Directory.EnumerateFiles(_root.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}.quilt-mcp{Path.DirectorySeparatorChar}locks", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(_root.Path, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private string L(string name) => TestData.Json(_files.Combine(name));

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>
        {
            { "buckets_list", """{"x": 1}""", "Unknown argument 'x'" },

            { "bucket_objects_list", "{}", "Missing required argument 'bucket'" },
            { "bucket_objects_list", """{"bucket": 5}""", "'bucket' must be a string" },
            { "bucket_objects_list", """{"bucket": "other-bucket"}""", "Bucket 'other-bucket' is not one this server may use" },
            { "bucket_objects_list", """{"bucket": "Bad_Bucket"}""", "not a valid bucket name" },
            { "bucket_objects_list", """{"bucket": "data-bucket", "prefix": "a/../../other-bucket/"}""", "'..' segment" },
            { "bucket_objects_list", """{"bucket": "data-bucket", "pageSize": 0}""", "pageSize 0 is out of range" },
            { "bucket_objects_list", """{"bucket": "data-bucket", "pageSize": "many"}""", "'pageSize' must be an integer" },
            { "bucket_objects_list", """{"bucket": "data-bucket", "delimiter": "|"}""", "delimiter '|' is not supported" },
            { "bucket_objects_list", """{"bucket": "s3://data-bucket/a/", "prefix": "b"}""", "given twice" },
            { "bucket_objects_list", """{"bucket": "data-bucket", "prefx": "a"}""", "Unknown argument 'prefx'" },

            { "bucket_object_info", "{}", "Missing required argument 'uri'" },
            { "bucket_object_info", """{"uri": null}""", "Missing required argument 'uri'" },
            { "bucket_object_info", """{"uri": "data-bucket/small.txt"}""", "is not an object URI" },
            { "bucket_object_info", """{"uri": "s3://data-bucket/a/../small.txt"}""", "'..' segment" },
            { "bucket_object_info", """{"uri": "s3://data-bucket/../other-bucket/secret.txt"}""", "'..' segment" },
            { "bucket_object_info", """{"uri": "s3://data-bucket"}""", "the object key is empty" },
            { "bucket_object_info", """{"uri": "s3://other-bucket/secret.txt"}""", "not one this server may use" },
            { "bucket_object_info", """{"uri": "s3://data-bucket/missing.txt"}""", "No object at s3://data-bucket/missing.txt" },
            { "bucket_object_info", """{"uri": "s3://data-bucket/small.txt?foo=bar"}""", "only ?versionId= is allowed" },
            { "bucket_object_info", """{"uri": "quilt+s3://data-bucket#package=team/pkg&path=a.csv"}""", "No package 'team/pkg'" },
            { "bucket_object_info", """{"uri": "quilt+s3://data-bucket"}""", "names no object" },

            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "format": "xml"}""", "format 'xml' is not one of" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "offset": -1}""", "offset -1 is negative" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "offset": 99}""", "past the end" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "maxBytes": 100000000}""", "over this server's limit" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "encoding": "ebcdic"}""", "Unknown encoding 'ebcdic'" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "rows": 5000}""", "rows 5000 is out of range" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/small.txt", "format": "preview"}""", "no preview" },
            { "bucket_object_text", """{"uri": "s3://data-bucket/bin.dat"}""", "looks like binary data" },
            { "bucket_object_text", """{"uri": "s3://other-bucket/secret.txt"}""", "not one this server may use" },

            { "bucket_object_fetch", """{"uri": "s3://data-bucket/big.txt"}""", "over this server's inline limit" },
            { "bucket_object_fetch", """{"uri": "s3://data-bucket/small.txt", "destination": "relative/out.txt"}""", "is not an absolute path" },
            { "bucket_object_fetch", """{"uri": "s3://other-bucket/secret.txt", "destination": "/tmp/x"}""", "not one this server may use" },

            { "bucket_object_link", """{"uri": "s3://data-bucket/small.txt", "expiresInSeconds": 0}""", "expiresInSeconds 0 is out of range" },
            { "bucket_object_link", """{"uri": "s3://data-bucket/missing.txt"}""", "No object at" },
            { "bucket_object_link", """{"uri": "s3://other-bucket/secret.txt"}""", "not one this server may use" },

            { "bucket_objects_put", "{}", "Missing required argument 'objects'" },
            { "bucket_objects_put", """{"objects": []}""", "objects is empty" },
            { "bucket_objects_put", """{"objects": {"uri": "s3://data-bucket/a.txt"}}""", "'objects' must be an array" },
            { "bucket_objects_put", """{"objects": [{"text": "x"}]}""", "Missing required field 'objects[0].uri'" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "txt": "x"}]}""", "Unknown field 'objects[0].txt'" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt"}]}""", "gives no sources" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x", "base64": "eA=="}]}""", "exactly one of text, base64 or localPath" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "base64": "not base64!"}]}""", "not valid base64" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a/../../other-bucket/x.txt", "text": "x"}]}""", "'..' segment" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://other-bucket/x.txt", "text": "x"}]}""", "not one this server may use" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/x.txt?versionId=abc", "text": "x"}]}""", "names a version" },
            { "bucket_objects_put", """{"objects": [{"uri": "quilt+s3://data-bucket#package=team/pkg&path=x.txt", "text": "x"}]}""", "cannot be changed in place" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "localPath": "local.txt"}]}""", "is not an absolute path" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x", "contentType": "bogus"}]}""", "not a content type" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x", "metadata": {"bad key": "v"}}]}""", "metadata key 'bad key' is not allowed" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x", "metadata": {"k": 1}}]}""", "must be a string" },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x", "metadata": {"k": "two\nlines"}}]}""", "control characters" },
            {
                "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x"}, {"uri": "s3://data-bucket/a.txt", "text": "y"}]}""",
                "appears more than once"
            },
            {
                // The first object is fine; the second is bad: neither is written.
                "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/ok.txt", "text": "fine"}, {"uri": "s3://other-bucket/no.txt", "text": "x"}]}""",
                "objects[1].uri"
            },
            { "bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/a.txt", "text": "x"}], "overwrite": "yes"}""", "'overwrite' must be a boolean" },

            { "bucket_object_copy", """{"source": "s3://data-bucket/small.txt"}""", "Missing required argument 'destination'" },
            { "bucket_object_copy", """{"source": "s3://data-bucket/missing.txt", "destination": "s3://data-bucket/copy.txt"}""", "No object at" },
            { "bucket_object_copy", """{"source": "s3://data-bucket/small.txt", "destination": "s3://other-bucket/copy.txt"}""", "not one this server may use" },
            { "bucket_object_copy", """{"source": "s3://other-bucket/secret.txt", "destination": "s3://data-bucket/copy.txt"}""", "not one this server may use" },
            { "bucket_object_copy", """{"source": "s3://data-bucket/small.txt", "destination": "s3://data-bucket/../x.txt"}""", "'..' segment" },

            { "bucket_object_delete", "{}", "Missing required argument 'uri'" },
            { "bucket_object_delete", """{"uri": "s3://data-bucket/a/../small.txt"}""", "'..' segment" },
            { "bucket_object_delete", """{"uri": "s3://other-bucket/secret.txt"}""", "not one this server may use" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_a_clear_tool_error_and_changes_nothing(string tool, string arguments, string expected)
    {
        var before = Snapshot();
        await using var mcp = await McpHarness.StartAsync(TestData.Settings(Bucket, maxInline: 1024, maxText: 4096), _store);
        var error = await mcp.CallErrorAsync(tool, arguments);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("bucket_objects_put", """{"objects": [{"uri": "s3://data-bucket/new.txt", "text": "x"}]}""")]
    [InlineData("bucket_object_copy", """{"source": "s3://data-bucket/small.txt", "destination": "s3://data-bucket/copy.txt"}""")]
    [InlineData("bucket_object_delete", """{"uri": "s3://data-bucket/small.txt"}""")]
    public async Task Writes_in_read_only_mode_are_refused(string tool, string arguments)
    {
        var before = Snapshot();
        await using var mcp = await McpHarness.StartAsync(TestData.Settings(Bucket, readOnly: true), _store);
        var error = await mcp.CallErrorAsync(tool, arguments);
        Assert.Contains("read-only", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", error, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Inline_put_over_the_limit_points_to_local_paths()
    {
        var before = Snapshot();
        await using var mcp = await McpHarness.StartAsync(TestData.Settings(Bucket, maxInline: 1024), _store);
        var big = new string('x', 1025);
        var error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://data-bucket/big2.txt", "text": "{{big}}"}]}""");
        Assert.Contains("inline limit of 1,024 bytes", error, StringComparison.Ordinal);
        Assert.Contains("localPath", error, StringComparison.Ordinal);

        var base64 = Convert.ToBase64String(new byte[2000]);
        error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://data-bucket/big3.bin", "base64": "{{base64}}"}]}""");
        Assert.Contains("inline limit", error, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Fetch_destination_that_exists_is_kept_and_local_path_errors_name_the_file()
    {
        await using var mcp = await McpHarness.StartAsync(TestData.Settings(Bucket), _store);
        var error = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "s3://data-bucket/small.txt", "destination": {{L("existing.txt")}}}""");
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Equal("keep", await File.ReadAllTextAsync(_files.Combine("existing.txt"), TestContext.Current.CancellationToken));

        error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://data-bucket/a.txt", "localPath": {{L("nope.txt")}}}]}""");
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_open_to_remote_clients_does_not_touch_its_own_files()
    {
        var before = Snapshot();
        var settings = TestData.Settings(Bucket) with { Http = new Mcp.Configuration.HttpSettings { Urls = ["http://0.0.0.0:0"], AllowRemote = true } };
        await using var mcp = await McpHarness.StartAsync(settings, _store);
        var error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://data-bucket/a.txt", "localPath": {{L("local.txt")}}}]}""");
        Assert.Contains("remote clients", error, StringComparison.Ordinal);
        error = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "s3://data-bucket/small.txt", "destination": {{L("out.txt")}}}""");
        Assert.Contains("remote clients", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_files.Combine("out.txt")));
        Assert.Equal(before, Snapshot());
    }

    public void Dispose()
    {
        _root.Dispose();
        _files.Dispose();
    }
}
