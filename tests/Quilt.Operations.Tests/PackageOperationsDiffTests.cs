using System.Text;
using System.Text.Json.Nodes;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>package_diff's answer: why each entry changed (old and new values), and renames paired instead of removed + added.</summary>
public sealed class PackageOperationsDiffTests : IDisposable
{
    private readonly TempDirectory _root = new("pkgdiff");

    public void Dispose() => _root.Dispose();

    private PackageOperations Packages()
    {
        var store = new LocalFolderStore(_root.Combine("store"));
        var settings = new OperationSettings { Storage = new StorageSettings { LocalRoot = _root.Combine("store") } };
        return new QuiltOperations(new StoreConnection(store), settings, new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false))).Packages;
    }

    private static PackageSourceSpec Text(string key, string text, string? metadata = null) =>
        new("sources") { Content = Encoding.UTF8.GetBytes(text), LogicalKey = key, Metadata = metadata is null ? null : JsonNode.Parse(metadata) };

    [Fact]
    public async Task A_diff_says_why_each_entry_changed_and_pairs_a_rename()
    {
        var ct = TestContext.Current.CancellationToken;
        var ops = Packages();
        var first = await ops.CreateAsync(ops.Target("team/diff", null, write: true), new PackageCreateInput(
        [
            Text("a.txt", "alpha", """{"owner": "x", "draft": true, "v": 1}"""),
            Text("b.txt", "beta"),
            Text("same.txt", "same"),
            Text("gone.txt", "gone"),
        ]) { Message = "first", Metadata = JsonNode.Parse("""{"p": 1, "old": true}""") }, null, ct);
        var second = await ops.PatchAsync(ops.Target("team/diff", null, write: true), new PackagePatchInput
        {
            Add = [Text("a.txt", "alpha, longer", """{"owner": "x", "v": 2, "new": 1}"""), Text("fresh.txt", "fresh")],
            Remove = ["gone.txt"],
            Rename = new Dictionary<string, string> { ["b.txt"] = "moved/b.txt" },
            Message = "second",
            Metadata = JsonNode.Parse("""{"p": 2, "q": 3}"""),
        }, null, ct);

        var diff = (await ops.DiffAsync(ops.Target("team/diff", null), null, null, ct)).Result;

        Assert.Equal((first.Result.TopHash, second.Result.TopHash), (diff.From, diff.To));
        // The rename is one change, from -> to; neither a removal nor an addition.
        Assert.Equal(new PackageEntryRename("b.txt", "moved/b.txt", null), Assert.Single(diff.Renamed));
        Assert.Equal(["fresh.txt"], diff.Added);
        Assert.Equal(["gone.txt"], diff.Removed);
        Assert.Equal((1, 1, 1, 1, 1), (diff.AddedCount, diff.RemovedCount, diff.RenamedCount, diff.ModifiedCount, diff.Unchanged));
        // Why a.txt changed: its size and hash, old and new, and which metadata keys.
        var a = Assert.Single(diff.Modified);
        Assert.Equal("a.txt", a.Path);
        Assert.Equal(new SizeChange(5, 13), a.Size);
        var before = first.Write.Manifest.Find("a.txt")!.Hash;
        var after = second.Write.Manifest.Find("a.txt")!.Hash;
        Assert.Equal(new TextChange($"{before.Type}:{before.Value}", $"{after.Type}:{after.Value}"), a.Hash);
        Assert.Equal(["new"], a.Metadata!.Added);
        Assert.Equal(["draft"], a.Metadata.Removed);
        Assert.Equal(["v"], a.Metadata.Changed);
        // With their values, short as they are: old and new as compact JSON, null where absent.
        Assert.Equal(new Dictionary<string, TextChange>
        {
            ["new"] = new(null, "1"), ["draft"] = new("true", null), ["v"] = new("1", "2"),
        }, a.Metadata.Values);
        // The package line: message and metadata keys.
        Assert.Equal(new TextChange("first", "second"), diff.Message);
        Assert.Equal(["q"], diff.Metadata!.Added);
        Assert.Equal(["old"], diff.Metadata.Removed);
        Assert.Equal(["p"], diff.Metadata.Changed);
        Assert.Equal(new TextChange("1", "2"), diff.Metadata.Values!["p"]);
        Assert.False(diff.WorkflowChanged);
        Assert.Empty(diff.FolderMetadataChanged);
    }

    [Fact]
    public async Task Only_metadata_changed_gives_no_hash_or_size_and_a_renamed_entry_names_its_metadata_keys()
    {
        var ct = TestContext.Current.CancellationToken;
        var ops = Packages();
        await ops.CreateAsync(ops.Target("team/meta", null, write: true), new PackageCreateInput(
            [Text("keep.txt", "k", """{"tag": "a"}"""), Text("old.txt", "o", """{"tag": "a"}""")]) { Message = "m" }, null, ct);
        await ops.PatchAsync(ops.Target("team/meta", null, write: true), new PackagePatchInput
        {
            Rename = new Dictionary<string, string> { ["old.txt"] = "new.txt" },
            Message = "m",
            EntryMetadata = new Dictionary<string, JsonNode?> { ["keep.txt"] = JsonNode.Parse("""{"tag": "b"}"""), ["new.txt"] = JsonNode.Parse("""{"tag": "a", "x": 1}""") },
        }, null, ct);

        var diff = (await ops.DiffAsync(ops.Target("team/meta", null), null, null, ct)).Result;

        var keep = Assert.Single(diff.Modified);
        Assert.Equal(("keep.txt", null, null), (keep.Path, keep.Hash, keep.Size));
        Assert.Equal(["tag"], keep.Metadata!.Changed);
        var renamed = Assert.Single(diff.Renamed);
        Assert.Equal(("old.txt", "new.txt"), (renamed.From, renamed.To));
        Assert.Equal(["x"], renamed.Metadata!.Added);
        Assert.Null(diff.Message);
        Assert.Null(diff.Metadata);
    }
}
