using System.Text;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>What the MCP resources build on: a revision's summary and the change marks subscriptions compare, on a local folder.</summary>
public sealed class ResourceOperationsTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly TempDirectory _root = new("resops");
    private readonly ResourceOperations _resources;
    private readonly LocalFolderStore _store;

    public ResourceOperationsTests()
    {
        Directory.CreateDirectory(_root.Combine("res-bucket"));
        _store = new LocalFolderStore(_root.Path);
        var settings = new OperationSettings { Storage = new StorageSettings { LocalRoot = _root.Path }, AllowedBuckets = ["res-bucket"] };
        var ops = new QuiltOperations(new StoreConnection(_store), settings, new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: false)));
        _resources = new ResourceOperations(ops.Objects, ops.Packages);
    }

    public void Dispose() => _root.Dispose();

    private async Task<string> PublishAsync(params (string Key, string Text)[] entries)
    {
        var packages = _resources.Packages;
        var specs = entries.Select((e, i) => new PackageSourceSpec($"sources[{i}]") { Content = Encoding.UTF8.GetBytes(e.Text), LogicalKey = e.Key }).ToList();
        var written = await packages.CreateAsync(packages.Target("team/res", "res-bucket", write: true), new PackageCreateInput(specs) { Overwrite = true, Message = "m" }, null, Ct);
        return written.Result.TopHash;
    }

    [Fact]
    public async Task A_summary_counts_the_root_files_and_lists_the_top_level_folders()
    {
        var hash = await PublishAsync(("a/x.txt", "1"), ("a/b/y.txt", "22"), ("c/z.txt", "333"), ("top.txt", "4444"));
        var summary = await _resources.PackageSummaryAsync($"quilt+s3://res-bucket#package=team/res@{hash}", Ct);
        Assert.Equal(4, summary.Entries);
        Assert.Equal(10, summary.Size);
        Assert.Equal(["a/", "c/"], summary.Folders.Select(f => f.Name));
        Assert.Equal([2, 1], summary.Folders.Select(f => f.Entries));
        Assert.Equal(1, summary.TopLevelFiles);
        Assert.Equal(["top.txt"], summary.TopLevelFileKeys);
        Assert.False(summary.Truncated);
    }

    [Fact]
    public async Task Change_marks_move_with_latest_and_the_object_and_a_pinned_revision_is_refused()
    {
        var first = await PublishAsync(("k.txt", "one"));
        var latest = "quilt+s3://res-bucket#package=team/res";
        var before = await _resources.ChangeMarkAsync(latest, Ct);
        await PublishAsync(("k.txt", "two"));
        Assert.NotEqual(before, await _resources.ChangeMarkAsync(latest, Ct));
        var error = await Assert.ThrowsAsync<OperationException>(() => _resources.ChangeMarkAsync($"{latest}@{first}", Ct));
        Assert.Contains("never changes", error.Message, StringComparison.Ordinal);

        await _store.PutAsync(new PutRequest("res-bucket", "o.txt"), new MemoryStream("a"u8.ToArray()), null, Ct);
        var object1 = await _resources.ChangeMarkAsync("s3://res-bucket/o.txt", Ct);
        await _store.PutAsync(new PutRequest("res-bucket", "o.txt"), new MemoryStream("bb"u8.ToArray()), null, Ct);
        Assert.NotEqual(object1, await _resources.ChangeMarkAsync("s3://res-bucket/o.txt", Ct));
        await _store.DeleteAsync(new ObjectRef("res-bucket", "o.txt"), Ct);
        Assert.Equal("absent", await _resources.ChangeMarkAsync("s3://res-bucket/o.txt", Ct));
        await Assert.ThrowsAsync<OperationException>(() => _resources.ChangeMarkAsync("s3://other-bucket/o.txt", Ct));
    }
}
