using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests;

/// <summary>The package write tools over the S3 store (a versioned bucket): all of <see cref="PackageWriteToolsTests"/> and objects referenced in place.</summary>
public sealed class S3PackageWriteToolsTests() : PackageWriteToolsTests(new S3ToolTestStore(versioned: true))
{
    [Fact]
    public async Task Referencing_objects_in_place_pins_their_versions()
    {
        await Store.PutAsync(new PutRequest(Bucket, "in/v.txt"), new MemoryStream("version one"u8.ToArray()), null, TestContext.Current.CancellationToken);
        var created = await Mcp.CallOkAsync<PackageRevisionResult>("package_create",
            $$"""{"package": "team/pinned", "copy": false, "sources": [{"uri": "s3://{{Bucket}}/in/"}]}""");
        await Store.PutAsync(new PutRequest(Bucket, "in/v.txt"), new MemoryStream("version two"u8.ToArray()), null, TestContext.Current.CancellationToken);
        var text = await Mcp.CallAsync("package_entry_text", $$"""{"package": "team/pinned", "path": "v.txt", "revision": "{{created.TopHash}}", "format": "text"}""");
        Assert.Contains("version one", McpHarness.Text(text), StringComparison.Ordinal);
        var browse = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/pinned"}""");
        Assert.Single(browse.Files);
        // No data was copied under the package name.
        Assert.Empty((await Store.ListAsync(new ListRequest(Bucket, "team/"), TestContext.Current.CancellationToken)).Objects);
    }
}
