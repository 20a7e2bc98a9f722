using Quilt.Storage.S3;
using Quilt.Testing;
using static Quilt.Storage.Tests.S3.S3Test;

namespace Quilt.Storage.Tests;

/// <summary>The one set of name rules: where the three copies disagreed, which rule now holds everywhere.</summary>
public sealed class ObjectNamesTests
{
    // The S3 store took legacy names (upper case, '_', 1-255 characters) although its own message said 3-63 lowercase.
    [Theory]
    [InlineData("Upper-Case", "'U' is not allowed")]
    [InlineData("under_score", "'_' is not allowed")]
    [InlineData("ab", "3 to 63 characters")]
    [InlineData("192.168.5.4", "IP address")]
    [InlineData("xn--punycode", "S3 reserves")]
    [InlineData("data-s3alias", "S3 reserves")]
    public async Task The_S3_store_refuses_a_bucket_name_S3_forbids_before_any_request(string bucket, string why)
    {
        Assert.Contains(why, ObjectNames.BucketError(bucket), StringComparison.Ordinal);
        var server = await S3TestServer.GetAsync();
        using var store = server.CreateStore();

        var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => store.HeadAsync(new ObjectRef(bucket, "k"), Ct));
        Assert.Contains("not a valid bucket name", ex.Message, StringComparison.Ordinal);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => store.PutBytesAsync(bucket, "k", [1]));
    }

    [Fact]
    public async Task A_valid_bucket_name_still_works_in_the_S3_store()
    {
        var (_, store, bucket) = await BucketAsync();
        Assert.Null(ObjectNames.BucketError(bucket));
        Assert.Null(ObjectNames.BucketError("my-data.v2"));

        await store.PutBytesAsync(bucket, "data/file.csv", [1, 2]);
        Assert.Equal(2, (await store.HeadAsync(new ObjectRef(bucket, "data/file.csv"), Ct)).Size);
    }

    // Keys an existing object may have stay readable: quilt3 writes such keys, and manifests name them.
    [Fact]
    public async Task The_S3_store_still_reads_an_existing_object_whose_key_a_new_name_may_not_have()
    {
        var (_, store, bucket) = await BucketAsync();
        Assert.NotNull(ObjectNames.KeyError("a//b.txt"));

        await store.PutBytesAsync(bucket, "a//b.txt", [7]);
        Assert.Equal(1, (await store.HeadAsync(new ObjectRef(bucket, "a//b.txt"), Ct)).Size);
    }

    // Operations refused only C0 and DEL; the gateway and the local store also refused C1 (U+0080-U+009F).
    [Theory]
    [InlineData("a\u0085b.txt")]
    [InlineData("a\u009bb.txt")]
    public void A_key_or_prefix_with_a_C1_control_character_is_refused(string key)
    {
        Assert.Contains("control characters", ObjectNames.KeyError(key), StringComparison.Ordinal);
        Assert.Contains("control characters", ObjectNames.PrefixError(key + "/"), StringComparison.Ordinal);
        Assert.Null(ObjectNames.KeyError("a\u00e9b.txt"));
        Assert.Null(ObjectNames.PrefixError("caf\u00e9/"));
    }
}
