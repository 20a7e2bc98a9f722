using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>
/// The caller's roots (an MCP client's) limit every local path an operation touches: upload sources, package sources and
/// download destinations. The rule is the same for every store: a local folder here.
/// </summary>
public sealed class LocalRootsTests : IDisposable
{
    private const string Bucket = "data";

    private readonly TempDirectory _storage = new("quilt-roots-store");
    private readonly TempDirectory _files = new("quilt-roots-files");
    private readonly LocalFolderStore _store;
    private readonly string _inside;
    private readonly string _outside;

    public LocalRootsTests()
    {
        Directory.CreateDirectory(Path.Join(_storage.Path, Bucket));
        _store = new LocalFolderStore(_storage.Path);
        _inside = Directory.CreateDirectory(Path.Join(_files.Path, "inside")).FullName;
        _outside = Directory.CreateDirectory(Path.Join(_files.Path, "outside")).FullName;
    }

    public void Dispose()
    {
        _storage.Dispose();
        _files.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private QuiltOperations Operations(IReadOnlyList<string>? roots) =>
        new(new StoreConnection(_store), new OperationSettings { Storage = new StorageSettings(), AllowedBuckets = [Bucket] },
            new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: false)), new FixedRoots(roots));

    private static string WriteFile(string folder, string name, string text)
    {
        var path = Path.Join(folder, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private async Task<bool> ExistsAsync(string key) =>
        (await _store.ListAsync(new ListRequest(Bucket, key), Ct)).Objects.Any(o => o.Key == key);

    [Fact]
    public async Task An_upload_from_outside_the_roots_is_refused_before_anything_is_written()
    {
        var ops = Operations([_inside]).Objects;
        var inside = WriteFile(_inside, "a.txt", "a");
        var outside = WriteFile(_outside, "b.txt", "b");

        var e = await Assert.ThrowsAsync<OperationException>(() => ops.PutAsync(
            [new PutObjectInput { Uri = $"s3://{Bucket}/a.txt", LocalPath = inside }, new PutObjectInput { Uri = $"s3://{Bucket}/b.txt", LocalPath = outside }],
            overwrite: true, null, Ct));

        Assert.Equal($"objects[1].localPath '{outside}' is outside the folders the client shares with this server (its roots): {_inside}. "
            + "Use a path under one of them, or add a root in the client.", e.Message);
        Assert.False(await ExistsAsync("a.txt"));
        Assert.False(await ExistsAsync("b.txt"));

        await ops.PutAsync([new PutObjectInput { Uri = $"s3://{Bucket}/a.txt", LocalPath = inside }], overwrite: true, null, Ct);
        Assert.True(await ExistsAsync("a.txt"));
    }

    [Fact]
    public async Task A_download_may_not_leave_the_roots_through_a_link()
    {
        var ops = Operations([_inside]).Objects;
        await ops.PutAsync([new PutObjectInput { Uri = $"s3://{Bucket}/k.txt", Text = "k" }], overwrite: true, null, Ct);
        var source = await ops.ReadableAsync($"s3://{Bucket}/k.txt", "uri", Ct);
        Directory.CreateSymbolicLink(Path.Join(_inside, "link"), _outside);

        await Assert.ThrowsAsync<OperationException>(() => ops.FetchToFileAsync(source, Path.Join(_outside, "k.txt"), false, null, Ct));
        var e = await Assert.ThrowsAsync<OperationException>(() => ops.FetchToFileAsync(source, Path.Join(_inside, "link", "k.txt"), false, null, Ct));
        Assert.StartsWith($"destination '{Path.Join(_inside, "link", "k.txt")}' is outside the folders", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_outside));

        var saved = await ops.FetchToFileAsync(source, Path.Join(_inside, "k.txt"), false, null, Ct);
        Assert.Equal("k", await System.IO.File.ReadAllTextAsync(saved.Path!, Ct));
    }

    [Fact]
    public async Task A_package_source_outside_the_roots_is_refused_and_no_roots_means_no_limit()
    {
        WriteFile(_outside, "c.txt", "c");
        var source = new PackageSourceSpec("sources[0]") { Uri = _outside };

        var limited = Operations([_inside]).Packages;
        var e = await Assert.ThrowsAsync<OperationException>(() =>
            limited.CreateAsync(limited.Target("team/p", Bucket, write: true), new PackageCreateInput([source]), null, Ct));
        Assert.Contains("sources[0].uri", e.Message, StringComparison.Ordinal);
        Assert.Contains("outside the folders the client shares", e.Message, StringComparison.Ordinal);

        var unlimited = Operations(null).Packages;
        var written = await unlimited.CreateAsync(unlimited.Target("team/p", Bucket, write: true), new PackageCreateInput([source]), null, Ct);
        Assert.Equal(1, written.Result.Entries);
    }

    [Fact]
    public async Task An_empty_roots_list_allows_no_local_path()
    {
        var ops = Operations([]).Objects;
        var file = WriteFile(_inside, "a.txt", "a");
        var e = await Assert.ThrowsAsync<OperationException>(() =>
            ops.PutAsync([new PutObjectInput { Uri = $"s3://{Bucket}/a.txt", LocalPath = file }], overwrite: true, null, Ct));
        Assert.Contains("shares no folders with this server", e.Message, StringComparison.Ordinal);
    }

    private sealed class FixedRoots(IReadOnlyList<string>? roots) : ILocalRoots
    {
        public ValueTask<IReadOnlyList<string>?> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(roots);
    }
}
