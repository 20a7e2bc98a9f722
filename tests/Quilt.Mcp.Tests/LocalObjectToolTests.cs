using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>The object tools over the local folder store.</summary>
public sealed class LocalObjectToolTests : ObjectToolTests
{
    private readonly TempDirectory _root = new();

    private protected override Task<(IObjectStore Store, string Bucket, string OtherBucket)> OpenStoreAsync()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, "data-bucket"));
        Directory.CreateDirectory(Path.Join(_root.Path, "other-bucket"));
        return Task.FromResult<(IObjectStore, string, string)>((new LocalFolderStore(_root.Path), "data-bucket", "other-bucket"));
    }

    private protected override Task<byte[]> DownloadAsync(string url)
    {
        var uri = new Uri(url);
        Assert.Equal("file", uri.Scheme);
        return File.ReadAllBytesAsync(uri.LocalPath, TestContext.Current.CancellationToken);
    }

    private protected override async Task AssertNothingHalfWrittenAsync(string key)
    {
        // The store writes into <root>/.quilt-mcp/tmp and renames into place; a cancelled write removes its temp file.
        var temp = Path.Join(_root.Path, ".quilt-mcp", "tmp");
        string[] Leftovers() => Directory.Exists(temp) ? Directory.GetFiles(temp) : [];
        for (var i = 0; i < 250 && Leftovers().Length > 0; i++)
            await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Empty(Leftovers());
        Assert.False(File.Exists(Path.Join(_root.Path, Bucket, key)));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _root.Dispose();
    }
}
