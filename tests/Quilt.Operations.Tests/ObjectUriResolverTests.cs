using Quilt.Storage;

namespace Quilt.Operations.Tests;

/// <summary>Object arguments are checked once, below every front end: the same refusal whichever door the call came in by.</summary>
public sealed class ObjectUriResolverTests
{
    private static readonly ObjectUriResolver Resolver = new(
        new BucketAccessPolicy(new OperationSettings { Storage = new StorageSettings(), AllowedBuckets = ["data"] }),
        new NoPackages());

    [Theory]
    [InlineData("s3://data/a/../b.txt", "'..' segment")]
    [InlineData("s3://data/a//b.txt", "empty path segment")]
    [InlineData("s3://Data/b.txt", "not a valid bucket name")]
    [InlineData("s3://other/b.txt", "Bucket 'other' is not one this server may use")]
    [InlineData("data/b.txt", "Give an s3://bucket/key URI, such as s3://data/b.txt")]
    public void A_bad_object_argument_is_an_operation_error_naming_the_argument(string uri, string expected)
    {
        var e = Assert.Throws<OperationException>(() => Resolver.ForWrite(uri, "objects[0].uri"));
        Assert.StartsWith("objects[0].uri", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_good_object_argument_names_its_bucket_key_and_version()
    {
        var obj = Resolver.ForWrite("s3://data/raw/b%20c.txt?versionId=v1", "uri", allowVersion: true);
        Assert.Equal(new ObjectRef("data", "raw/b c.txt", "v1"), obj);
    }

    private sealed class NoPackages : IPackageEntryResolver
    {
        public Task<PackageEntryObject> ResolveAsync(Core.QuiltUri uri, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not called for s3:// URIs");
    }
}
