using System.Text.RegularExpressions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Tests.Capabilities;

namespace Quilt.Mcp.Tests.Prompts;

/// <summary>The workflow prompts: listed with their arguments, and each names real tools, in the order to call them, with the arguments given.</summary>
public sealed partial class PromptsTests : InteractionTests
{
    [Fact]
    public async Task TheFourWorkflowsAreListedWithTheirArguments()
    {
        var mcp = await StartAsync();
        var prompts = await mcp.Client.ListPromptsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(["compare_revisions", "explore_bucket", "publish_package", "summarize_package"], prompts.Select(p => p.Name).Order(StringComparer.Ordinal));
        var publish = prompts.Single(p => p.Name == "publish_package").ProtocolPrompt;
        Assert.Equal(["package", "sources", "message"], publish.Arguments!.Where(a => a.Required == true).Select(a => a.Name));
        Assert.Contains(publish.Arguments!, a => a.Name == "metadata" && a.Required != true);
    }

    [Theory]
    [InlineData("explore_bucket", """{"bucket": "data-bucket", "prefix": "raw/"}""", new[] { "bucket_objects_list", "bucket_object_text", "package_list" })]
    [InlineData("summarize_package", """{"package": "team/data", "registry": "data-bucket"}""", new[] { "package_revisions", "package_browse", "package_entry_text" })]
    [InlineData("publish_package", """{"package": "team/results", "sources": "/tmp/out/a.csv, s3://data-bucket/raw/", "message": "Run 12", "metadata": "{\"run\": 12}"}""",
        new[] { "package_revisions", "package_create", "package_browse" })]
    [InlineData("compare_revisions", """{"package": "team/data", "from": "abc123", "to": "latest"}""", new[] { "package_revisions", "package_diff", "package_entry_text" })]
    public async Task EachPromptNamesTheToolsToCallInOrderWithTheGivenArguments(string name, string argumentsJson, string[] toolsInOrder)
    {
        var mcp = await StartAsync();
        var arguments = System.Text.Json.JsonDocument.Parse(argumentsJson).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.GetString());
        var result = await mcp.Client.GetPromptAsync(name, arguments, cancellationToken: TestContext.Current.CancellationToken);
        var message = Assert.Single(result.Messages);
        Assert.Equal(Role.User, message.Role);
        var text = Assert.IsType<TextContentBlock>(message.Content).Text;

        var positions = toolsInOrder.Select(t => text.IndexOf(t, StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p >= 0, text));
        Assert.Equal(positions.Order(), positions);
        foreach (var value in arguments.Values.OfType<string>().Where(v => !v.Contains(',', StringComparison.Ordinal)))
            Assert.Contains(value, text, StringComparison.Ordinal);

        // Every tool a prompt names is one this server offers.
        var offered = (await mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).ToHashSet();
        foreach (Match named in ToolName().Matches(text))
            Assert.Contains(named.Value, offered);
    }

    [Fact]
    public async Task PublishSplitsTheSourcesIntoPackageCreateItems()
    {
        var mcp = await StartAsync();
        var result = await mcp.Client.GetPromptAsync("publish_package",
            new Dictionary<string, object?> { ["package"] = "team/results", ["sources"] = "/tmp/out/a.csv, s3://data-bucket/raw/", ["message"] = "Run 12" },
            cancellationToken: TestContext.Current.CancellationToken);
        var text = Assert.IsType<TextContentBlock>(result.Messages[0].Content).Text;
        Assert.Contains("""[{"uri": "/tmp/out/a.csv"}, {"uri": "s3://data-bucket/raw/"}]""", text, StringComparison.Ordinal);
        Assert.Contains("""message "Run 12""", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadPromptArgumentsAreRefusedWithWhatToFix()
    {
        var mcp = await StartAsync();
        var error = await Assert.ThrowsAnyAsync<McpException>(async () => await mcp.Client.GetPromptAsync("publish_package",
            new Dictionary<string, object?> { ["package"] = "team/results", ["sources"] = "/tmp/a.csv", ["message"] = "m", ["metadata"] = "[1, 2]" },
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("metadata must be a JSON object", error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b(?:bucket|buckets|package)_[a-z_]+\b")]
    private static partial Regex ToolName();
}
