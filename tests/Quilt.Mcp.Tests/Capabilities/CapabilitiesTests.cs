#pragma warning disable MCP9005 // logging and roots: deprecated from protocol revision 2026-07-28, still how 2025-11-25 clients use them.
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Services;

namespace Quilt.Mcp.Tests.Capabilities;

/// <summary>What the server advertises it also does: read-only hides writes, log messages at the client's level, no listChanged, roots.</summary>
public sealed class CapabilitiesTests : InteractionTests
{
    private static readonly string[] WriteTools =
        ["bucket_objects_put", "bucket_object_copy", "bucket_object_delete", "package_create", "package_patch", "package_revision_delete", "package_promote", "role_switch"];

    [Fact]
    public async Task ReadOnlyServerListsOnlyReadOnlyToolsAndRefusesTheOthersByName()
    {
        var mcp = await StartAsync(settings: s => s with { ReadOnly = true });

        var tools = await mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEmpty(tools);
        Assert.All(tools, t => Assert.True(t.ProtocolTool.Annotations?.ReadOnlyHint, $"{t.Name} is listed by a read-only server"));
        Assert.Empty(tools.Select(t => t.Name).Intersect(WriteTools));
        Assert.Contains("read-only", mcp.Client.ServerInstructions, StringComparison.Ordinal);

        var error = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/ro.txt", "text": "x"}]}""");
        Assert.Contains("bucket_objects_put", error, StringComparison.Ordinal);
        Assert.Contains("read-only", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", error, StringComparison.Ordinal);
        Assert.False(await ExistsAsync("ro.txt"));
    }

    [Fact]
    public async Task ReadWriteServerListsTheWriteTools()
    {
        var mcp = await StartAsync();
        var names = (await mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Select(t => t.Name).ToList();
        Assert.Subset(names.ToHashSet(), WriteTools.ToHashSet());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("2025-11-25")]
    public async Task TheServerAdvertisesNoListChangedForListsThatNeverChange(string? protocolVersion)
    {
        // The newest revision describes the server in server/discover, older ones in the initialize result.
        var mcp = await StartAsync(new McpClientOptions { ProtocolVersion = protocolVersion });
        var capabilities = mcp.Client.ServerCapabilities;
        Assert.NotNull(capabilities.Tools);
        Assert.NotEqual(true, capabilities.Tools.ListChanged);
        Assert.NotNull(capabilities.Prompts);
        Assert.NotEqual(true, capabilities.Prompts.ListChanged);
        Assert.NotNull(capabilities.Completions);
        if (protocolVersion is not null)
            Assert.NotNull(capabilities.Logging);
    }

    [Fact]
    public async Task LogMessagesReachTheClientAtTheLevelItSetAndNotBelow()
    {
        var messages = new Received<LoggingMessageNotificationParams>();
        var mcp = await StartAsync(new McpClientOptions
        {
            // logging/setLevel is the protocol's way up to 2025-11-25 (later revisions set a level per request).
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.LoggingMessageNotification, (notification, _) =>
                {
                    messages.Add(notification.Params!.Deserialize<LoggingMessageNotificationParams>(McpJsonUtilities.DefaultOptions)!);
                    return ValueTask.CompletedTask;
                })],
            },
        });
        var ct = TestContext.Current.CancellationToken;

        // Before the client sets a level, and at warning, the refusal (logged at info) is not sent.
        await mcp.CallErrorAsync("bucket_object_info", $$"""{"uri": "s3://{{Bucket}}/missing-1.txt"}""");
        await mcp.Client.SetLoggingLevelAsync(LoggingLevel.Warning, cancellationToken: ct);
        await mcp.CallErrorAsync("bucket_object_info", $$"""{"uri": "s3://{{Bucket}}/missing-2.txt"}""");
        await mcp.Client.SetLoggingLevelAsync(LoggingLevel.Info, cancellationToken: ct);
        await mcp.CallErrorAsync("bucket_object_info", $$"""{"uri": "s3://{{Bucket}}/missing-3.txt"}""");
        await WaitForAsync(() => messages.Items.Count > 0);

        var message = Assert.Single(messages.Items);
        Assert.Equal(LoggingLevel.Info, message.Level);
        var text = message.Data.GetString()!;
        Assert.Contains("bucket_object_info", text, StringComparison.Ordinal);
        Assert.Contains("missing-3.txt", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE",
        new[] { "AKIAEXAMPLE", "abcdef0123", "FQoGZXIvYXdzEXAMPLE" })]
    [InlineData("registry said 401 for Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.sig-value", new[] { "eyJhbGciOiJIUzI1NiJ9", "sig-value" })]
    public void LogMessagesNeverCarryCredentials(string message, string[] secrets)
    {
        var sent = ClientLogSink.Redact(message);
        foreach (var secret in secrets)
            Assert.DoesNotContain(secret, sent, StringComparison.Ordinal);
        Assert.Contains("[redacted]", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientRootsLimitLocalPathsAndAreAskedAgainWhenTheyChange()
    {
        await PutAsync("data/file.txt", "hello");
        var inside = Directory.CreateDirectory(Path.Join(Files.Path, "inside")).FullName;
        var outside = Directory.CreateDirectory(Path.Join(Files.Path, "outside")).FullName;
        var roots = new List<string> { new Uri(inside).AbsoluteUri };
        var asked = 0;
        var mcp = await StartAsync(new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                RootsHandler = (_, _) =>
                {
                    Interlocked.Increment(ref asked);
                    return ValueTask.FromResult(new ListRootsResult { Roots = [.. roots.Select(r => new Root { Uri = r })] });
                },
            },
        });
        var uri = $"s3://{Bucket}/data/file.txt";

        var refused = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "{{uri}}", "destination": {{TestData.Json(Path.Join(outside, "f.txt"))}}}""");
        Assert.Contains("outside the folders the client shares", refused, StringComparison.Ordinal);
        Assert.Contains(inside, refused, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(outside, "f.txt")));

        await mcp.CallOkAsync<JsonElement>("bucket_object_fetch", $$"""{"uri": "{{uri}}", "destination": {{TestData.Json(Path.Join(inside, "f.txt"))}}}""");
        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Join(inside, "f.txt"), TestContext.Current.CancellationToken));

        // A link inside a root that leads out of it does not let the path out.
        Directory.CreateSymbolicLink(Path.Join(inside, "escape"), outside);
        var linked = await mcp.CallErrorAsync("bucket_object_fetch", $$"""{"uri": "{{uri}}", "destination": {{TestData.Json(Path.Join(inside, "escape", "g.txt"))}}}""");
        Assert.Contains("outside the folders the client shares", linked, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Join(outside, "g.txt")));

        // Uploads and package sources obey the same roots.
        var local = Path.Join(outside, "up.txt");
        await File.WriteAllTextAsync(local, "up", TestContext.Current.CancellationToken);
        var put = await mcp.CallErrorAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/up.txt", "localPath": {{TestData.Json(local)}}}]}""");
        Assert.Contains("objects[0].localPath", put, StringComparison.Ordinal);
        Assert.False(await ExistsAsync("up.txt"));
        var create = await mcp.CallErrorAsync("package_create", $$"""{"package": "team/rooted", "sources": [{"uri": {{TestData.Json(outside)}}}]}""");
        Assert.Contains("outside the folders the client shares", create, StringComparison.Ordinal);
        Assert.Equal(1, asked);

        // The client adds a root and says so: the server asks again.
        roots.Add(new Uri(outside).AbsoluteUri);
        await mcp.Client.SendNotificationAsync(NotificationMethods.RootsListChangedNotification, cancellationToken: TestContext.Current.CancellationToken);
        CallToolResult? result = null;
        for (var i = 0; i < 100 && (result is null || result.IsError == true); i++)
            result = await mcp.CallAsync("bucket_objects_put", $$"""{"objects": [{"uri": "s3://{{Bucket}}/up.txt", "localPath": {{TestData.Json(local)}}}]}""");
        Assert.False(result!.IsError == true, McpHarness.Text(result));
        Assert.True(await ExistsAsync("up.txt"));
        Assert.Equal(2, asked);
    }

    [Fact]
    public async Task AClientWithoutRootsKeepsEveryAbsolutePath()
    {
        await PutAsync("data/file.txt", "hello");
        var mcp = await StartAsync();
        var destination = Path.Join(Files.Path, "anywhere", "f.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        await mcp.CallOkAsync<JsonElement>("bucket_object_fetch", $$"""{"uri": "s3://{{Bucket}}/data/file.txt", "destination": {{TestData.Json(destination)}}}""");
        Assert.True(File.Exists(destination));
    }
}
