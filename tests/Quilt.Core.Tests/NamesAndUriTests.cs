namespace Quilt.Core.Tests;

public sealed class NamesAndUriTests
{
    [Theory]
    [InlineData("user/name", true)]
    [InlineData("team-1/data_set", true)]
    [InlineData("équipe/données", true)]
    [InlineData("a/b/c", false)]
    [InlineData("a", false)]
    [InlineData("/b", false)]
    [InlineData("a/", false)]
    [InlineData("a b/c", false)]
    [InlineData("a.b/c", false)]
    [InlineData("a/b\n", false)]
    [InlineData("", false)]
    public void Package_names_follow_quilt3s_rule(string name, bool valid)
    {
        Assert.Equal(valid, Names.IsValidPackageName(name));
        if (!valid)
            Assert.Contains("Invalid package name", Assert.Throws<InvalidNameException>(() => Names.ValidatePackageName(name)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("../up")]
    [InlineData("a/./b")]
    [InlineData("a/\u0001")]
    public void Bad_logical_keys_are_refused(string key) =>
        Assert.Throws<InvalidNameException>(() => Names.ValidateLogicalKey(key));

    [Theory]
    [InlineData("s3://bucket/a%20b/c.txt?versionId=v%2B1", "bucket", "a b/c.txt", "v+1", "s3://bucket/a%20b/c.txt?versionId=v%2B1")]
    [InlineData("s3://bucket/na%C3%AFve/x", "bucket", "naïve/x", null, "s3://bucket/na%C3%AFve/x")]
    [InlineData("s3://bucket/k~_.-/%28x%29", "bucket", "k~_.-/(x)", null, "s3://bucket/k~_.-/%28x%29")]
    [InlineData("file:///fixtures/with%20space/a%20b.txt", null, "/fixtures/with space/a b.txt", null, "file:///fixtures/with%20space/a%20b.txt")]
    [InlineData("file://localhost/tmp/x", null, "/tmp/x", null, "file:///tmp/x")]
    public void Physical_keys_parse_and_format_as_quilt3(string url, string? bucket, string path, string? version, string formatted)
    {
        var key = PhysicalKey.Parse(url);
        Assert.Equal(bucket, key.Bucket);
        Assert.Equal(path, key.Path);
        Assert.Equal(version, key.VersionId);
        Assert.Equal(formatted, key.ToString());
    }

    [Theory]
    [InlineData("http://x/y")]
    [InlineData("s3:///key")]
    [InlineData("s3://b/k?foo=1")]
    [InlineData("file://host/x")]
    public void Bad_physical_keys_are_refused(string url) => Assert.Throws<FormatException>(() => PhysicalKey.Parse(url));

    [Fact]
    public void Quilt_uris_round_trip_with_hash_tag_path_and_catalog()
    {
        var uri = QuiltUri.Parse("quilt+s3://my-bucket#package=team/data@2afeaad1de7f&path=dir/a%20b.csv&catalog=open.quiltdata.com");
        Assert.Equal("my-bucket", uri.Bucket);
        Assert.Equal("team/data", uri.PackageName);
        Assert.Equal("2afeaad1de7f", uri.TopHash);
        Assert.Equal("dir/a b.csv", uri.Path);
        Assert.Equal("open.quiltdata.com", uri.Catalog);
        Assert.Equal("quilt+s3://my-bucket#package=team/data@2afeaad1de7f&path=dir/a%20b.csv&catalog=open.quiltdata.com", uri.ToString());

        var tagged = QuiltUri.Parse("quilt+s3://b#package=team/data:latest");
        Assert.Equal("latest", tagged.Tag);
        Assert.Null(tagged.TopHash);
        Assert.Equal("quilt+s3://b#package=team/data:latest", tagged.ToString());
    }

    [Theory]
    [InlineData("s3://b/k")]
    [InlineData("quilt+s3://#package=a/b")]
    [InlineData("quilt+s3://b#package=ab")]
    [InlineData("quilt+s3://b#package=a/b@XYZ")]
    [InlineData("quilt+s3://b#package=a/b@abc")]
    [InlineData("quilt+s3://b#bogus=1")]
    public void Bad_quilt_uris_are_refused(string uri) => Assert.Throws<FormatException>(() => QuiltUri.Parse(uri));
}
