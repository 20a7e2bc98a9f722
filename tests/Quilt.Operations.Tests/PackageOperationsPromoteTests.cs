using System.Text.Json.Nodes;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>
/// Promoting a revision in direct mode (no registry server): a new revision in another registry, built by the package
/// core from the source's entries, its data copied (or referenced) and verified, with a new message or metadata.
/// </summary>
public sealed class PackageOperationsPromoteTests : IDisposable
{
    private readonly TempDirectory _root = new("promote");

    public void Dispose() => _root.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (PackageOperations Ops, LocalFolderStore Store) Open()
    {
        var store = new LocalFolderStore(_root.Combine("store"));
        var settings = new OperationSettings { Storage = new StorageSettings { LocalRoot = _root.Combine("store") } };
        var ops = new QuiltOperations(new StoreConnection(store), settings, new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false))).Packages;
        return (ops, store);
    }

    private static async Task<PackageWritten> CreateAsync(PackageOperations ops, string name, string registry)
    {
        var input = new PackageCreateInput([
            new PackageSourceSpec("sources[0]") { Content = "a,b\n1,2\n"u8.ToArray(), LogicalKey = "data/table.csv" },
            new PackageSourceSpec("sources[1]") { Content = "hello"u8.ToArray(), LogicalKey = "README.md" },
        ])
        {
            Message = "first",
            Metadata = new JsonObject { ["stage"] = "dev" },
        };
        return await ops.CreateAsync(ops.Target(name, registry, write: true), input, null, Ct);
    }

    [Fact]
    public async Task A_promoted_revision_has_the_same_entries_with_data_copied_into_the_destination()
    {
        var (ops, _) = Open();
        var source = await CreateAsync(ops, "team/data", "dev");

        var promoted = await ops.PromoteAsync(ops.Target("team/data", "dev", source.Result.TopHash), "prod", null, copy: true,
            "released", null, null, null, Ct);

        var (hash, manifest) = await new PackageRegistry(new LocalFolderStore(_root.Combine("store")), "prod").BrowseAsync("team/data", null, Ct);
        Assert.Equal(promoted.Result.TopHash, hash);
        Assert.Equal("prod", promoted.Result.Registry);
        Assert.Equal("released", manifest.Message);
        // The source's metadata when none is given; the same logical keys, hashes and sizes.
        Assert.Equal("dev", manifest.UserMeta!["stage"]!.GetValue<string>());
        Assert.Equal(source.Write.Manifest.Entries.Select(e => (e.LogicalKey, e.Hash, e.Size)), manifest.Entries.Select(e => (e.LogicalKey, e.Hash, e.Size)));
        // Copied: each entry's data now lives in the destination registry, under <name>/.
        Assert.All(manifest.Entries, e => Assert.Contains("/prod/team/data/", e.PhysicalKey, StringComparison.Ordinal));
        // The source is untouched.
        var (sourceHash, _) = await new PackageRegistry(new LocalFolderStore(_root.Combine("store")), "dev").BrowseAsync("team/data", null, Ct);
        Assert.Equal(source.Result.TopHash, sourceHash);
    }

    [Fact]
    public async Task Without_copy_the_entries_reference_the_source_data_and_metadata_can_be_replaced()
    {
        var (ops, _) = Open();
        var source = await CreateAsync(ops, "team/data", "dev");

        var promoted = await ops.PromoteAsync(ops.Target("team/data", "dev"), "prod", "team/released", copy: false,
            null, new JsonObject { ["stage"] = "prod" }, null, null, Ct);

        Assert.Equal("team/released", promoted.Result.Package);
        var (_, manifest) = await new PackageRegistry(new LocalFolderStore(_root.Combine("store")), "prod").BrowseAsync("team/released", null, Ct);
        Assert.Equal("first", manifest.Message);
        Assert.Equal("prod", manifest.UserMeta!["stage"]!.GetValue<string>());
        Assert.Equal(source.Write.Manifest.Entries.Select(e => e.PhysicalKey), manifest.Entries.Select(e => e.PhysicalKey));
    }

    [Fact]
    public async Task Promoting_onto_itself_or_to_a_bad_name_is_refused_before_anything_is_written()
    {
        var (ops, _) = Open();
        await CreateAsync(ops, "team/data", "dev");
        var self = await Assert.ThrowsAsync<OperationException>(() => ops.PromoteAsync(ops.Target("team/data", "dev"), "dev", null, true, null, null, null, null, Ct));
        Assert.Contains("same name", self.Message, StringComparison.Ordinal);
        var bad = await Assert.ThrowsAsync<OperationException>(() => ops.PromoteAsync(ops.Target("team/data", "dev"), "prod", "no-slash", true, null, null, null, null, Ct));
        Assert.Contains("Invalid package name", bad.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_root.Combine("store/prod/.quilt")));
    }
}
