using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Storage.Tests.Local;

public sealed class LocalPhysicalKeyTests : IDisposable
{
    private readonly LocalStoreFixture _f = new();
    private LocalFolderStore Store => _f.Store;

    public void Dispose() => _f.Dispose();

    [Theory]
    [InlineData("with space/a b.txt", "with%20space/a%20b.txt")]
    [InlineData("naïve/ファイル.txt", "na%C3%AFve/%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt")]
    [InlineData("safe_chars-are.kept~/x", "safe_chars-are.kept~/x")]
    [InlineData("100%/a+b=c&d", "100%25/a%2Bb%3Dc%26d")]
    [InlineData("q?x#y", "q%3Fx%23y")]
    [InlineData("colon:at@semi;comma,", "colon%3Aat%40semi%3Bcomma%2C")]
    [InlineData("\U0001F600", "%F0%9F%98%80")]
    public void Physical_keys_are_file_urls_percent_encoded_like_python_quote(string key, string encodedKey)
    {
        Assert.Matches("^[A-Za-z0-9/_.~-]+$", Store.Root); // premise: the temp root needs no encoding

        var physicalKey = Store.ToPhysicalKey(new ObjectRef("data", key));

        Assert.Equal($"file://{Store.Root}/data/{encodedKey}", physicalKey);
        Assert.StartsWith("file:///", physicalKey, StringComparison.Ordinal);
        Assert.Equal(new ObjectRef("data", key), Store.FromPhysicalKey(physicalKey));
    }

    [Fact]
    public void A_root_with_spaces_and_non_ASCII_is_encoded_too()
    {
        using var temp = new TempDirectory();
        var store = new LocalFolderStore(temp.Combine("my data", "ré"));

        var physicalKey = store.ToPhysicalKey(new ObjectRef("data", "a.txt"));

        Assert.Equal($"file://{temp.Path}/my%20data/r%C3%A9/data/a.txt", physicalKey);
        Assert.Equal(new ObjectRef("data", "a.txt"), store.FromPhysicalKey(physicalKey));
        Assert.Equal(Path.Join(store.Root, "data", "a.txt"), new Uri(physicalKey).LocalPath);
    }

    [Fact]
    public void Other_spellings_of_the_same_url_map_back_as_quilt3_reads_them()
    {
        Assert.Equal(new ObjectRef("data", "naïve"), Store.FromPhysicalKey($"file://localhost{Store.Root}/data/na%c3%afve"));
        Assert.Equal(new ObjectRef("data", "naïve"), Store.FromPhysicalKey($"file://{Store.Root}/data/naïve"));
        // Python's unquote keeps a '%' that starts no escape, so this names the file "100%zz".
        Assert.Equal(new ObjectRef("data", "100%zz"), Store.FromPhysicalKey($"file://{Store.Root}/data/100%zz"));
    }

    [Fact]
    public void Anything_not_an_object_under_this_root_maps_to_null()
    {
        var root = Store.Root;
        string[] notHere =
        [
            "s3://data/a.txt",
            "data/a.txt",
            "",
            "file:///elsewhere/data/a.txt",
            $"file://{root}",
            $"file://{root}/",
            $"file://{root}/data",
            $"file://{root}/data/",
            $"file://{root}/data/dir/",
            $"file://{root}2/data/a.txt",
            $"file://otherhost{root}/data/a.txt",
            $"file://{root}/data/a.txt?versionId=1",
            $"file://{root}/data/a.txt#frag",
            $"file://{root}/data/../outside/a.txt",
            $"file://{root}/data/%2E%2E/x",
            $"file://{root}/data/a//b",
            $"file://{root}/data/a%00b",
            $"file://{root}/UPPER/a.txt",
            $"file://{root}/.quilt-mcp/meta/x.json",
            $"file://{root}/data/a%2F%2E%2E%2F%2E%2E%2Fx",
        ];
        // A backslash is a separator (and so refused) only on Windows; elsewhere it is part of a name, as in S3.
        if (LocalPaths.BackslashIsSeparator)
            notHere = [.. notHere, $"file://{root}/data/a%5Cb"];
        else
            Assert.Equal(new ObjectRef("data", "a\\b"), Store.FromPhysicalKey($"file://{root}/data/a%5Cb"));
        foreach (var physicalKey in notHere)
            Assert.True(Store.FromPhysicalKey(physicalKey) is null, $"{physicalKey} should not map to an object");
    }
}
