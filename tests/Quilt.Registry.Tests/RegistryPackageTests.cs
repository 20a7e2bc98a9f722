using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// Packages through the registry: data from s3:// objects (hashed by streaming them through the registry), local files
/// and inline content (uploaded first), published by packageConstruct, then read back through the registry.
/// </summary>
public sealed class RegistryPackageTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PackageRegistry RegistryOf(RegistryApiObjectStore store, string bucket) => RegistryFixture.RegistryOf(store, bucket);

    [Fact]
    public async Task Creates_and_patches_a_package_through_packageConstruct_and_reads_it_back()
    {
        var store = fx.Store("writer");
        var registry = RegistryOf(store, fx.Data);
        var name = $"team/pkg{Guid.NewGuid():N}"[..20];
        var dataKey = $"incoming-{Guid.NewGuid():N}/measurements.bin";
        var data = TestStreams.Bytes(9 * 1024 * 1024 + 7, 11);
        await store.PutAsync(new PutRequest(fx.Data, dataKey) { Length = data.Length }, new MemoryStream(data), null, Ct);
        using var dir = new TempDirectory();
        var localFile = dir.Combine("notes.md");
        await File.WriteAllTextAsync(localFile, "# Notes\n", Ct);

        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: true));
        var created = await service.CreateAsync(registry, new CreatePackageRequest(name,
        [
            new StoreObjectSource("data/measurements.bin", store, new ObjectRef(fx.Data, dataKey)) { UserMeta = new JsonObject { ["unit"] = "mV" } },
            new LocalFileSource("notes.md", localFile) { AlwaysCopy = true },
            new InlineSource("README.txt", "made through the registry\n"u8.ToArray()),
        ])
        { Message = "first", UserMeta = new JsonObject { ["project"] = "registry" }, CopyData = false }, null, Ct);

        // The registry's top hash is the one built here (checked by the publisher), and reading the package back
        // through the registry gives that revision.
        var (topHash, manifest) = await registry.BrowseAsync(name, null, Ct);
        Assert.Equal(created.Manifest.TopHash, topHash);
        Assert.Equal("first", manifest.Message);
        Assert.Equal(["README.txt", "data/measurements.bin", "notes.md"], manifest.Entries.Select(e => e.LogicalKey));

        // The s3:// object is referenced where it is, pinned to its version, with the hash of its bytes.
        var measured = manifest.Find("data/measurements.bin")!;
        Assert.StartsWith($"s3://{fx.Data}/{dataKey}?versionId=", measured.PhysicalKey, StringComparison.Ordinal);
        Assert.True(measured.Hash.Matches(await ObjectHashing.ComputeAsync(new MemoryStream(data), data.Length, ObjectHash.Sha256ChunkedType, null, Ct)));
        Assert.Equal("mV", measured.Meta!["user_meta"]!["unit"]!.GetValue<string>());

        // Local and inline content was uploaded to <name>/<logical key> in the registry bucket.
        var readme = manifest.Find("README.txt")!;
        Assert.StartsWith($"s3://{fx.Data}/{name}/README.txt", readme.PhysicalKey, StringComparison.Ordinal);
        await using (var read = await new ObjectLocator([store], allowLocalFilesOutsideStores: false).OpenReadAsync(readme.PhysicalKey, null, Ct))
            Assert.Equal("made through the registry\n"u8.ToArray(), await RegistryFixture.ReadAllAsync(read));

        var patched = await service.UpdateAsync(registry, name, new PackageUpdate
        {
            Add = [new InlineSource("more/extra.txt", "extra"u8.ToArray())],
            Remove = ["notes.md"],
            Message = "second",
            CopyData = false,
        }, null, Ct);
        var revisions = await registry.ListRevisionsAsync(name, Ct);
        Assert.Contains(revisions, r => r.TopHash == patched.Manifest.TopHash);
        var (latest, after) = await registry.BrowseAsync(name, null, Ct);
        Assert.Equal(patched.Manifest.TopHash, latest);
        Assert.Equal(["README.txt", "data/measurements.bin", "more/extra.txt"], after.Entries.Select(e => e.LogicalKey));
    }

    [Fact]
    public async Task A_role_that_may_not_write_publishes_nothing()
    {
        var key = $"open-{Guid.NewGuid():N}.txt";
        await fx.PutRawAsync(key, "x"u8.ToArray());
        var store = fx.Store("reader");
        var registry = RegistryOf(store, fx.Data);
        var name = $"team/denied{Guid.NewGuid():N}"[..22];
        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false));
        var ex = await Assert.ThrowsAsync<PackageException>(() => service.CreateAsync(registry,
            new CreatePackageRequest(name, [new StoreObjectSource("x.txt", store, new ObjectRef(fx.Data, key))]) { CopyData = false }, null, Ct));
        Assert.Contains("Nothing was published", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => registry.BrowseAsync(name, null, Ct));
    }
}
