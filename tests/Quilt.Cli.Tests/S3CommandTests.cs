using System.Text.Json.Nodes;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>The command line against the real S3 server: a local package pushed to S3, then read back from S3.</summary>
public sealed class S3CommandTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-cli-s3");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Create_locally_push_to_s3_and_browse_verify_get_there()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, TestContext.Current.CancellationToken);
        var cli = new CliRunner(_scratch.Combine("root"));
        var data = Directory.CreateDirectory(_scratch.Combine("data")).FullName;
        var big = new byte[12 * 1024 * 1024]; // multipart on the way up
        Random.Shared.NextBytes(big);
        await File.WriteAllBytesAsync(Path.Combine(data, "big.bin"), big, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(data, "small.txt"), "small", TestContext.Current.CancellationToken);

        var local = JsonNode.Parse(await cli.OkAsync("package", "create", "team/pushed", data, "-m", "from cli", "--json"))!;
        var s3Args = new[] { "--storage", "s3", "--endpoint", server.EndpointUrl, "--region", server.Region, "--path-style" };
        var pushed = JsonNode.Parse(await cli.OkAsync(["package", "push", "team/pushed", "--to", $"s3://{bucket}", "--to-storage", "s3", .. s3Args[2..], "--json"]))!;
        Assert.Equal(local["top_hash"]!.GetValue<string>(), pushed["top_hash"]!.GetValue<string>());

        var browse = JsonNode.Parse(await cli.OkAsync([.. s3Args, "package", "browse", $"quilt+s3://{bucket}#package=team/pushed", "--json"]))!;
        Assert.All(browse["entries"]!.AsArray(), e => Assert.Contains("?versionId=", e!["physical_key"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Contains("ok: 2 entries match", await cli.OkAsync([.. s3Args, "package", "verify", "team/pushed", "-r", bucket]), StringComparison.Ordinal);

        var dest = _scratch.Combine("out");
        await cli.OkAsync([.. s3Args, "package", "get", "team/pushed", "big.bin", "--dest", dest, "-r", $"s3://{bucket}"]);
        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(dest, "big.bin"), TestContext.Current.CancellationToken));

        var objects = JsonNode.Parse(await cli.OkAsync([.. s3Args, "object", "ls", $"s3://{bucket}/team/pushed/", "--json"]))!.AsArray();
        Assert.Equal(["team/pushed/big.bin", "team/pushed/small.txt"], objects.Select(o => o!["key"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Package_link_and_object_link_print_catalog_pages_with_catalog_only()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(cancellationToken: TestContext.Current.CancellationToken);
        var cli = new CliRunner(_scratch.Combine("root"));
        string[] s3 = ["--storage", "s3", "--endpoint", server.EndpointUrl, "--region", server.Region, "--path-style"];
        var file = _scratch.Combine("note.txt");
        await File.WriteAllTextAsync(file, "noted", TestContext.Current.CancellationToken);
        var hash = JsonNode.Parse(await cli.OkAsync([.. s3, "package", "create", "team/linked", $"docs/note.txt={file}", "-r", bucket, "--json"]))!["top_hash"]!.GetValue<string>();

        var link = JsonNode.Parse(await cli.OkAsync([.. s3, "package", "link", "team/linked", "docs/note.txt", "-r", bucket, "--catalog", "catalog.example.com", "--json"]))!;
        Assert.Equal($"quilt+s3://{bucket}#package=team/linked@{hash}&path=docs/note.txt", link["uri"]!.GetValue<string>());
        Assert.Equal($"https://catalog.example.com/b/{bucket}/packages/team/linked/tree/{hash}/docs/note.txt", link["catalog_url"]!.GetValue<string>());
        using var http = new HttpClient();
        Assert.Equal("noted", await http.GetStringAsync(new Uri(link["url"]!.GetValue<string>()), TestContext.Current.CancellationToken));

        // Text: the URI, the catalog page, the download URL, one a line; without --catalog no catalog page.
        var text = (await cli.OkAsync([.. s3, "package", "link", "team/linked", "-r", bucket, "--catalog", "catalog.example.com"])).Trim().Split('\n');
        Assert.Equal([$"quilt+s3://{bucket}#package=team/linked@{hash}", $"https://catalog.example.com/b/{bucket}/packages/team/linked/tree/{hash}/"], text);
        Assert.Null(JsonNode.Parse(await cli.OkAsync([.. s3, "package", "link", "team/linked", "-r", bucket, "--json"]))!["catalog_url"]);

        var obj = JsonNode.Parse(await cli.OkAsync([.. s3, "object", "link", $"s3://{bucket}/team/linked/docs/note.txt", "--catalog", "catalog.example.com", "--json"]))!;
        Assert.Equal($"https://catalog.example.com/b/{bucket}/tree/team/linked/docs/note.txt", obj["catalog_url"]!.GetValue<string>());
        Assert.Null(JsonNode.Parse(await cli.OkAsync([.. s3, "object", "link", $"s3://{bucket}/team/linked/docs/note.txt", "--json"]))!["catalog_url"]);
        var bad = await cli.RunAsync([.. s3, "object", "link", $"s3://{bucket}/team/linked/docs/note.txt", "--catalog", "https://x/y?z"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("is not a host name", bad.Stderr, StringComparison.Ordinal);
    }
}
