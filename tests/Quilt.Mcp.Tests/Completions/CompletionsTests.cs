using ModelContextProtocol.Protocol;
using Quilt.Mcp.Tests.Capabilities;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tests.Completions;

/// <summary>completion/complete for prompt and resource-template arguments, by argument name, bounded, never an error.</summary>
public sealed class CompletionsTests : InteractionTests
{
    private static PromptReference Prompt(string name) => new() { Name = name };

    private static async Task<Completion> CompleteAsync(McpHarness mcp, Reference reference, string argument, string value,
        Dictionary<string, string>? context = null)
    {
        var result = await mcp.Client.CompleteAsync(new CompleteRequestParams
        {
            Ref = reference,
            Argument = new Argument { Name = argument, Value = value },
            Context = context is null ? null : new CompleteContext { Arguments = context },
        }, TestContext.Current.CancellationToken);
        return result.Completion;
    }

    private static async Task<List<string>> PublishTwoRevisionsAsync(McpHarness mcp)
    {
        var first = await mcp.CallOkAsync<PackageRevisionResult>("package_create", """
            {"package": "team/data", "sources": [{"text": "a", "logicalKey": "data/x.csv"}, {"text": "b", "logicalKey": "readme.md"}]}
            """);
        var second = await mcp.CallOkAsync<PackageRevisionResult>("package_patch", """{"package": "team/data", "add": [{"text": "c", "logicalKey": "data/y.csv"}]}""");
        await mcp.CallOkAsync<PackageRevisionResult>("package_create", """{"package": "team/other", "sources": [{"text": "a", "logicalKey": "a.txt"}]}""");
        return [second.TopHash, first.TopHash];
    }

    [Fact]
    public async Task BucketPackageRevisionAndKeyArgumentsAreCompleted()
    {
        var mcp = await StartAsync();
        var hashes = await PublishTwoRevisionsAsync(mcp);

        Assert.Equal([Bucket], (await CompleteAsync(mcp, Prompt("explore_bucket"), "bucket", "")).Values);
        Assert.Empty((await CompleteAsync(mcp, Prompt("explore_bucket"), "bucket", "zz")).Values);

        Assert.Equal(["team/data", "team/other"], (await CompleteAsync(mcp, Prompt("summarize_package"), "package", "te")).Values);
        Assert.Equal(["team/data"], (await CompleteAsync(mcp, Prompt("summarize_package"), "package", "team/d", new() { ["registry"] = Bucket })).Values);

        // Newest first, after 'latest'; a prefix narrows them.
        var revisions = await CompleteAsync(mcp, Prompt("compare_revisions"), "from", "", new() { ["package"] = "team/data" });
        Assert.Equal(["latest", .. hashes], revisions.Values);
        Assert.Equal([hashes[1]], (await CompleteAsync(mcp, Prompt("compare_revisions"), "to", hashes[1][..8], new() { ["package"] = "team/data" })).Values);

        // Logical keys one folder level at a time, at the revision given.
        var package = new Dictionary<string, string> { ["package"] = "team/data" };
        Assert.Equal(["data/", "readme.md"], (await CompleteAsync(mcp, Prompt("summarize_package"), "path", "", package)).Values);
        Assert.Equal(["data/x.csv", "data/y.csv"], (await CompleteAsync(mcp, Prompt("summarize_package"), "path", "data/", package)).Values);
        Assert.Equal(["data/x.csv"], (await CompleteAsync(mcp, Prompt("summarize_package"), "path", "data/",
            new() { ["package"] = "team/data", ["revision"] = hashes[1] })).Values);
    }

    [Fact]
    public async Task ResourceTemplateArgumentsAreCompletedByTheirNames()
    {
        var mcp = await StartAsync();
        await PublishTwoRevisionsAsync(mcp);
        await PutAsync("raw/a.csv", "1");
        await PutAsync("raw/b.csv", "2");
        await PutAsync("notes.txt", "3");

        var objects = new ResourceTemplateReference { Uri = "s3://{bucket}/{+key}" };
        Assert.Equal([Bucket], (await CompleteAsync(mcp, objects, "bucket", "data")).Values);
        var top = (await CompleteAsync(mcp, objects, "key", "", new() { ["bucket"] = Bucket })).Values;
        Assert.Contains("raw/", top);
        Assert.Contains("notes.txt", top);
        Assert.DoesNotContain("raw/a.csv", top);
        Assert.Equal(["raw/a.csv", "raw/b.csv"], (await CompleteAsync(mcp, objects, "key", "raw/", new() { ["bucket"] = Bucket })).Values);

        var entries = new ResourceTemplateReference { Uri = "quilt+s3://{bucket}#package={name}&path={+key}" };
        Assert.Equal(["team/data"], (await CompleteAsync(mcp, entries, "name", "team/d", new() { ["bucket"] = Bucket })).Values);
        Assert.Equal(["data/x.csv", "data/y.csv"], (await CompleteAsync(mcp, entries, "key", "data/", new() { ["bucket"] = Bucket, ["name"] = "team/data" })).Values);
    }

    [Fact]
    public async Task CompletionsAreBoundedAndSayThereIsMore()
    {
        var mcp = await StartAsync();
        for (var i = 0; i < 120; i++)
            await PutAsync($"many/{i:D3}.txt", "x");
        var completion = await CompleteAsync(mcp, new ResourceTemplateReference { Uri = "s3://{bucket}/{+key}" }, "key", "many/", new() { ["bucket"] = Bucket });
        Assert.Equal(100, completion.Values.Count);
        Assert.True(completion.HasMore);
        Assert.Equal("many/000.txt", completion.Values[0]);
    }

    [Fact]
    public async Task FailuresAreEmptyCompletionsNotErrors()
    {
        var mcp = await StartAsync();
        // No such package, a bucket the server may not use, a bad name, an argument nobody completes.
        Assert.Empty((await CompleteAsync(mcp, Prompt("compare_revisions"), "from", "", new() { ["package"] = "nobody/none" })).Values);
        Assert.Empty((await CompleteAsync(mcp, Prompt("summarize_package"), "package", "", new() { ["registry"] = "other-bucket" })).Values);
        Assert.Empty((await CompleteAsync(mcp, Prompt("summarize_package"), "path", "", new() { ["package"] = "Not A Name!" })).Values);
        Assert.Empty((await CompleteAsync(mcp, Prompt("publish_package"), "message", "R")).Values);
        // The server is still there.
        Assert.Equal([Bucket], (await mcp.CallOkAsync<BucketsListResult>("buckets_list")).Buckets.Select(b => b.Name));
    }
}
