using Quilt.Storage;

namespace Quilt.Mcp.Tests;

/// <summary>
/// The package tools through an in-process MCP client, over one store (local folder or S3): the fixture that
/// <see cref="PackageReadToolsTests"/> and <see cref="PackageWriteToolsTests"/> share.
/// </summary>
public abstract class PackageToolsTests : IAsyncLifetime
{
    private readonly ToolTestStore _backing;
    private McpHarness? _mcp;

    private protected PackageToolsTests(ToolTestStore backing) => _backing = backing;

    private protected IObjectStore Store { get; private set; } = null!;
    private protected string Bucket { get; private set; } = "";
    private protected McpHarness Mcp => _mcp!;

    public async ValueTask InitializeAsync()
    {
        (Store, Bucket, _) = await _backing.OpenAsync();
        _mcp = await McpHarness.StartAsync(TestData.Settings(Bucket), Store);
    }

    public async ValueTask DisposeAsync()
    {
        if (_mcp is not null)
            await _mcp.DisposeAsync();
        await _backing.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private protected static string FixturePath(params string[] parts) => Path.Join([AppContext.BaseDirectory, "TestData", "quilt3", .. parts]);

    private protected async Task PutAsync(string key, string text) =>
        await Store.PutAsync(new PutRequest(Bucket, key), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), null, TestContext.Current.CancellationToken);
}
