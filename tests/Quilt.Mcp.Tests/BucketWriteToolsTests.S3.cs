using System.Text;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tests;

/// <summary>The bucket write tools over the S3 store, against the real S3 server on loopback: all of <see cref="BucketWriteToolsTests"/> and what only S3 has.</summary>
public sealed class S3BucketWriteToolsTests() : BucketWriteToolsTests(new S3ToolTestStore())
{
    [Fact]
    public async Task Metadata_and_content_type_survive_the_round_trip()
    {
        await using var mcp = await StartAsync();
        await mcp.CallOkAsync<ObjectsPutResult>("bucket_objects_put", $$$"""
            {"objects": [{"uri": "{{{Uri("m/data.csv")}}}", "text": "a,b\n1,2\n", "metadata": {"project": "alpha", "Run-Id": "42"} }]}
            """);
        var info = await mcp.CallOkAsync<ObjectInfoResult>("bucket_object_info", $$"""{"uri": "{{Uri("m/data.csv")}}"}""");
        Assert.Equal("text/csv", info.ContentType);
        Assert.Equal("alpha", info.Metadata["project"]);
        Assert.Equal("42", info.Metadata["run-id"]);
        Assert.Equal(Encoding.UTF8.GetByteCount("a,b\n1,2\n"), info.Size);
    }
}
