using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>package_list's answer: each package's latest revision, read for the page only and without reading every revision.</summary>
public sealed class PackageOperationsListTests
{
    [Fact]
    public async Task A_page_lists_each_packages_latest_revision_with_bounded_metadata_reading_only_that_page()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(cancellationToken: ct);
        using var s3 = server.CreateStore();
        var store = new ReadRecordingStore(s3);
        var settings = new OperationSettings
        {
            Storage = new StorageSettings { Kind = StorageKind.S3, EndpointUrl = server.EndpointUrl, Region = server.Region, ForcePathStyle = true },
        };
        var ops = new QuiltOperations(new StoreConnection(store), settings,
            new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false))).Packages;
        PackageCreateInput Input(string message, string metadata) => new([new PackageSourceSpec("sources") { Content = Encoding.UTF8.GetBytes(message), LogicalKey = "m.txt" }])
        {
            Message = message, Metadata = JsonNode.Parse(metadata), Overwrite = true,
        };
        await ops.CreateAsync(ops.Target("team/a", bucket, write: true), Input("a1", """{"v": 1}"""), null, ct);
        var a2 = await ops.CreateAsync(ops.Target("team/a", bucket, write: true), Input("a2 now", """{"v": 2, "owner": "ann"}"""), null, ct);
        var big = new JsonObject();
        for (var i = 0; i < 40; i++)
            big[$"key{i:D2}"] = new string('x', 30);
        var b = await ops.CreateAsync(ops.Target("team/b", bucket, write: true), Input("b", big.ToJsonString()), null, ct);
        var c = await ops.CreateAsync(ops.Target("team/c", bucket, write: true), Input("c", "{}"), null, ct);
        var aTime = (await ops.RevisionsAsync(ops.Target("team/a", bucket), 1, ct)).Result.Revisions[0].Time;
        store.Reads.Clear();

        var page = await ops.ListAsync(bucket, null, PageRequest.Of(2, null), ct);

        Assert.Equal((3, "2"), (page.Total, page.NextCursor));
        Assert.Equal(["team/a", "team/b"], page.Packages.Select(p => p.Name));
        var a = page.Packages[0];
        Assert.Equal((a2.Result.TopHash, aTime, "a2 now", 1, 6L), (a.TopHash, a.Time, a.Message, a.Entries, a.Size));
        Assert.Equal("""{"v":2,"owner":"ann"}""", a.Metadata!.Value.GetRawText());
        Assert.False(a.MetadataTruncated);
        // Large metadata is cut to whole keys within the bound, and says so.
        var listedB = page.Packages[1];
        Assert.Equal(b.Result.TopHash, listedB.TopHash);
        Assert.True(listedB.MetadataTruncated);
        Assert.InRange(Encoding.UTF8.GetByteCount(listedB.Metadata!.Value.GetRawText()), 100, PackageOperations.ListedMetadataBytes);
        Assert.Equal(new string('x', 30), listedB.Metadata.Value.GetProperty("key00").GetString());
        // Only the page's packages were read: their latest manifests, and two pointers each ('latest' and the newest
        // timestamp), not every revision's pointer, and nothing of team/c.
        var manifests = store.Reads.Where(k => k.StartsWith(".quilt/packages/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { RegistryLayout.ManifestKey(a2.Result.TopHash), RegistryLayout.ManifestKey(b.Result.TopHash) }.Order(StringComparer.Ordinal), manifests);
        Assert.Equal(2, store.Reads.Count(k => k.StartsWith(RegistryLayout.PointersPrefix("team/a"), StringComparison.Ordinal)));
        Assert.DoesNotContain(store.Reads, k => k.Contains("team/c", StringComparison.Ordinal) || k.Contains(c.Result.TopHash, StringComparison.Ordinal));
    }

    /// <summary>The real store, with a record of every key opened for reading.</summary>
    private sealed class ReadRecordingStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        public ConcurrentBag<string> Reads { get; } = [];

        public override Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            Reads.Add(obj.Key);
            return base.OpenReadAsync(obj, range, cancellationToken);
        }
    }
}
