using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>Package operations on the embedded default: a local folder store.</summary>
public sealed class LocalRegistryTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-pkg-tests");
    private readonly LocalFolderStore _store;
    private readonly PackageRegistry _registry;
    private readonly PackageService _service;

    public LocalRegistryTests()
    {
        _store = new LocalFolderStore(Sub("root"));
        _registry = new PackageRegistry(_store, "reg");
        _service = new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: true));
    }

    public void Dispose() => _scratch.Dispose();

    private string Sub(string name) => Directory.CreateDirectory(_scratch.Combine(name)).FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<PackageWriteResult> CreateFromFixtureAsync(string name, string package, bool copy)
    {
        var files = Sub("files-" + name);
        FixtureCases.MaterializeFiles(name, files);
        var (message, userMeta, entryMeta) = FixtureCases.Inputs(name);
        var sources = EntrySources.FromLocalPath(files)
            .Select(s => entryMeta.TryGetValue(s.LogicalKey, out var m) ? s with { UserMeta = m } : s)
            .ToList();
        return await _service.CreateAsync(_registry, new CreatePackageRequest(package, sources)
        {
            Message = message,
            UserMeta = userMeta,
            CopyData = copy,
        }, null, Ct);
    }

    [Theory]
    [MemberData(nameof(FixtureCases.All), MemberType = typeof(FixtureCases))]
    public async Task Creating_from_a_fixtures_files_gives_quilt3s_top_hash_and_manifest(string name)
    {
        var result = await CreateFromFixtureAsync(name, "fixtures/" + name, copy: true);
        Assert.Equal(FixtureCases.TopHash(name), result.Revision.TopHash);

        // The stored manifest is quilt3's, line for line, but for the physical keys (which point into our registry).
        var ours = File.ReadAllLines(Path.Combine(_store.Root, "reg", ".quilt", "packages", result.Revision.TopHash));
        var theirs = File.ReadAllLines(FixtureCases.ManifestPath(name));
        Assert.Equal(theirs.Length, ours.Length);
        Assert.Equal(theirs[0], ours[0]);
        for (var i = 1; i < ours.Length; i++)
        {
            var a = JsonNode.Parse(ours[i])!.AsObject();
            var b = JsonNode.Parse(theirs[i])!.AsObject();
            a.Remove("physical_keys");
            b.Remove("physical_keys");
            Assert.Equal(b.ToJsonString(), a.ToJsonString());
        }
        // Data was copied to <user>/<name>/<logical key>, and pointers are in quilt3's layout.
        Assert.All(result.Manifest.Entries, e =>
            Assert.Equal(Path.Combine(_store.Root, "reg", "fixtures", name, e.LogicalKey), PhysicalKey.Parse(e.PhysicalKey).Path));
        Assert.Equal(result.Revision.TopHash, File.ReadAllText(Path.Combine(_store.Root, "reg", ".quilt", "named_packages", "fixtures", name, "latest")));
    }

    [Fact]
    public async Task Referencing_files_in_place_keeps_their_paths_and_the_same_top_hash()
    {
        var result = await CreateFromFixtureAsync("basic", "fixtures/basic", copy: false);
        Assert.Equal(FixtureCases.TopHash("basic"), result.Revision.TopHash);
        Assert.All(result.Manifest.Entries, e => Assert.StartsWith("file://" + _scratch.Path, e.PhysicalKey, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "reg", "fixtures")));
    }

    [Theory]
    [MemberData(nameof(FixtureCases.All), MemberType = typeof(FixtureCases))]
    public async Task Reads_a_registry_written_by_quilt3(string name)
    {
        // quilt3's local registry layout is a bucket folder of the local store.
        CopyDirectory(Path.Combine(FixtureCases.Root, name, "registry"), Path.Combine(_store.Root, "quilt3"));
        var registry = new PackageRegistry(_store, "quilt3");

        Assert.Equal(["fixtures/" + name], await registry.ListPackagesAsync(null, Ct));
        var revisions = await registry.ListRevisionsAsync("fixtures/" + name, Ct);
        var revision = Assert.Single(revisions);
        Assert.Equal(FixtureCases.TopHash(name), revision.TopHash);
        var (hash, manifest) = await registry.BrowseAsync("fixtures/" + name, revision.TopHash[..8], Ct);
        Assert.Equal(FixtureCases.TopHash(name), hash);
        Assert.Equal(FixtureCases.TopHash(name), manifest.TopHash);
    }

    [Fact]
    public async Task Create_refuses_to_replace_a_package_unless_told_and_then_reports_the_changes()
    {
        var files = Sub("v");
        await File.WriteAllTextAsync(Path.Combine(files, "a.txt"), "one", Ct);
        await File.WriteAllTextAsync(Path.Combine(files, "b.txt"), "two", Ct);
        var first = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", EntrySources.FromLocalPath(files)) { Message = "v1" }, null, Ct);

        File.Delete(Path.Combine(files, "b.txt"));
        await File.WriteAllTextAsync(Path.Combine(files, "a.txt"), "changed", Ct);
        await File.WriteAllTextAsync(Path.Combine(files, "c.txt"), "new", Ct);
        var request = new CreatePackageRequest("team/data", EntrySources.FromLocalPath(files)) { Message = "v2" };

        var refused = await Assert.ThrowsAsync<PackageExistsException>(() => _service.CreateAsync(_registry, request, null, Ct));
        Assert.Contains("overwrite", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Single(await _registry.ListRevisionsAsync("team/data", Ct));

        var second = await _service.CreateAsync(_registry, request with { Overwrite = true }, null, Ct);
        var diff = second.ChangesFromPrevious!;
        Assert.Equal(["c.txt"], diff.Added.Select(e => e.LogicalKey));
        Assert.Equal(["b.txt"], diff.Removed.Select(e => e.LogicalKey));
        Assert.Equal(["a.txt"], diff.Modified.Select(e => e.LogicalKey));
        Assert.True(diff.MessageChanged);

        var revisions = await _registry.ListRevisionsAsync("team/data", Ct);
        Assert.Equal(2, revisions.Count);
        Assert.Equal(second.Revision.TopHash, await _registry.ResolveTopHashAsync("team/data", null, Ct));
        // The first revision is still there, whole.
        Assert.Equal(first.Manifest.TopHash, (await _registry.GetManifestAsync(first.Revision.TopHash, Ct)).TopHash);
    }

    [Fact]
    public async Task Later_revisions_never_overwrite_data_an_earlier_revision_points_to()
    {
        var files = Sub("evolving");
        var file = Path.Combine(files, "a.txt");
        await File.WriteAllTextAsync(file, "one", Ct);
        var v1 = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", EntrySources.FromLocalPath(files)), null, Ct);
        await File.WriteAllTextAsync(file, "two", Ct);
        var v2 = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", EntrySources.FromLocalPath(files)) { Overwrite = true }, null, Ct);

        // The local store keeps no versions: v2's bytes went elsewhere, and v1 still reads (and verifies) as it was.
        Assert.NotEqual(v1.Manifest.Entries[0].PhysicalKey, v2.Manifest.Entries[0].PhysicalKey);
        Assert.Contains("/team/data/.versions/", v2.Manifest.Entries[0].PhysicalKey, StringComparison.Ordinal);
        Assert.True((await _service.VerifyAsync(v1.Manifest, cancellationToken: Ct)).Ok);
        Assert.True((await _service.VerifyAsync(v2.Manifest, cancellationToken: Ct)).Ok);
        Assert.Equal("one", await ReadEntryAsync(v1.Manifest.Entries[0]));

        // Publishing the same bytes again writes nothing new: they are found where they already are.
        var before = Directory.GetFiles(Path.Combine(_store.Root, "reg", "team"), "*", SearchOption.AllDirectories).Length;
        var v3 = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", EntrySources.FromLocalPath(files)) { Overwrite = true, Message = "again" }, null, Ct);
        Assert.Equal(v2.Manifest.Entries[0].PhysicalKey, v3.Manifest.Entries[0].PhysicalKey);
        Assert.Equal(before, Directory.GetFiles(Path.Combine(_store.Root, "reg", "team"), "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task A_failed_create_leaves_no_revision()
    {
        var sources = new List<EntrySource>
        {
            new InlineSource("ok.txt", "fine"u8.ToArray()),
            new LocalFileSource("missing.txt", Path.Combine(_scratch.Path, "does-not-exist.txt")),
        };
        await Assert.ThrowsAsync<PackageException>(() => _service.CreateAsync(_registry, new CreatePackageRequest("team/broken", sources), null, Ct));
        await Assert.ThrowsAsync<PackageNotFoundException>(() => _registry.ListRevisionsAsync("team/broken", Ct));
        Assert.Empty(await _registry.ListPackagesAsync(null, Ct));
    }

    [Fact]
    public async Task Update_adds_replaces_renames_removes_and_changes_metadata()
    {
        await _service.CreateAsync(_registry, new CreatePackageRequest("team/data",
        [
            new InlineSource("keep.txt", "k"u8.ToArray()),
            new InlineSource("old/name.txt", "n"u8.ToArray()),
            new InlineSource("drop/x.txt", "x"u8.ToArray()),
            new InlineSource("replace.txt", "r1"u8.ToArray()),
        ]) { Message = "v1", UserMeta = JsonNode.Parse("""{"a": 1}""") }, null, Ct);

        var result = await _service.UpdateAsync(_registry, "team/data", new PackageUpdate
        {
            Add = [new InlineSource("replace.txt", "r2"u8.ToArray()), new InlineSource("added.txt", "a"u8.ToArray())],
            Remove = ["drop"],
            Rename = new Dictionary<string, string> { ["old/name.txt"] = "new/name.txt" },
            SetEntryMeta = new Dictionary<string, JsonNode?> { ["keep.txt"] = JsonNode.Parse("""{"checked": true}""") },
            Message = "v2",
            UserMeta = JsonNode.Parse("""{"a": 2}"""),
        }, null, Ct);

        Assert.Equal(["added.txt", "keep.txt", "new/name.txt", "replace.txt"], result.Manifest.Entries.Select(e => e.LogicalKey));
        Assert.Equal("v2", result.Manifest.Message);
        Assert.Equal(2, result.Manifest.UserMeta!["a"]!.GetValue<int>());
        Assert.True(result.Manifest.Find("keep.txt")!.UserMeta!["checked"]!.GetValue<bool>());
        var diff = result.ChangesFromPrevious!;
        // The renamed entry is paired (same bytes, another key), not listed as removed and added.
        Assert.Equal(["added.txt"], diff.Added.Select(e => e.LogicalKey));
        Assert.Equal(["drop/x.txt"], diff.Removed.Select(e => e.LogicalKey));
        Assert.Equal(("old/name.txt", "new/name.txt"), Assert.Single(diff.Renamed) is var r ? (r.Before.LogicalKey, r.After.LogicalKey) : default);
        Assert.Equal(["keep.txt", "replace.txt"], diff.Modified.Select(e => e.LogicalKey).Order(StringComparer.Ordinal));

        var text = await ReadEntryAsync(result.Manifest.Find("replace.txt")!);
        Assert.Equal("r2", text);
        // A renamed entry keeps its data.
        Assert.Equal("n", await ReadEntryAsync(result.Manifest.Find("new/name.txt")!));
    }

    private async Task<string> ReadEntryAsync(ManifestEntry entry)
    {
        await using var stream = await _service.Locator.OpenReadAsync(entry.PhysicalKey, null, Ct);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(Ct);
    }

    [Fact]
    public async Task Deleting_the_latest_revision_moves_latest_to_the_previous_one()
    {
        var v1 = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", [new InlineSource("a", "1"u8.ToArray())]), null, Ct);
        var v2 = await _service.UpdateAsync(_registry, "team/data", new PackageUpdate { Add = [new InlineSource("a", "2"u8.ToArray())] }, null, Ct);
        Assert.Equal(v2.Revision.TopHash, await _registry.ResolveTopHashAsync("team/data", "latest", Ct));

        await _registry.DeleteRevisionAsync("team/data", v2.Revision.TopHash, Ct);
        Assert.Equal(v1.Revision.TopHash, await _registry.ResolveTopHashAsync("team/data", "latest", Ct));
        Assert.Equal([v1.Revision.TopHash], (await _registry.ListRevisionsAsync("team/data", Ct)).Select(r => r.TopHash));

        await _registry.DeleteRevisionAsync("team/data", v1.Revision.TopHash, Ct);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => _registry.ResolveTopHashAsync("team/data", null, Ct));
    }

    [Fact]
    public async Task Verify_finds_changed_data_and_get_refuses_to_write_it()
    {
        var result = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data",
            [new InlineSource("good.txt", "good"u8.ToArray()), new InlineSource("bad.txt", "original"u8.ToArray())]), null, Ct);
        Assert.True((await _service.VerifyAsync(result.Manifest, cancellationToken: Ct)).Ok);

        var badPath = PhysicalKey.Parse(result.Manifest.Find("bad.txt")!.PhysicalKey).Path;
        await File.WriteAllTextAsync(badPath, "tampered", Ct);
        var verify = await _service.VerifyAsync(result.Manifest, cancellationToken: Ct);
        Assert.Equal(["bad.txt"], verify.Mismatched);

        var dest = Sub("download");
        await EntryDownloader.DownloadAsync(_service.Locator, [result.Manifest.Find("good.txt")!], dest, cancellationToken: Ct);
        Assert.Equal("good", await File.ReadAllTextAsync(Path.Combine(dest, "good.txt"), Ct));
        var ex = await Assert.ThrowsAsync<EntryMismatchException>(() => EntryDownloader.DownloadAsync(_service.Locator, [result.Manifest.Find("bad.txt")!], dest, cancellationToken: Ct));
        Assert.Contains("does not match its package entry", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ObjectHashing.Compute("tampered"u8), ex.ActualHash);
        Assert.Equal(["good.txt"], Directory.GetFiles(dest).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Two_creates_of_one_package_at_once_both_leave_complete_revisions()
    {
        var tasks = Enumerable.Range(0, 2).Select(i => _service.CreateAsync(_registry,
            new CreatePackageRequest("team/race", [new InlineSource("data.txt", System.Text.Encoding.UTF8.GetBytes($"writer {i}"))])
            { Overwrite = true }, null, Ct)).ToArray();
        var results = await Task.WhenAll(tasks);

        var revisions = await _registry.ListRevisionsAsync("team/race", Ct);
        Assert.Equal(results.Select(r => r.Revision.TopHash).Order(StringComparer.Ordinal), revisions.Select(r => r.TopHash).Order(StringComparer.Ordinal));
        var latest = await _registry.ResolveTopHashAsync("team/race", null, Ct);
        Assert.Contains(latest, results.Select(r => r.Revision.TopHash));
        foreach (var r in revisions)
            Assert.Equal(r.TopHash, (await _registry.GetManifestAsync(r.TopHash, Ct)).TopHash);
    }

    [Fact]
    public async Task A_damaged_manifest_is_reported_not_trusted()
    {
        var result = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", [new InlineSource("a", "1"u8.ToArray())]) { Message = "m" }, null, Ct);
        var path = Path.Combine(_store.Root, "reg", ".quilt", "packages", result.Revision.TopHash);
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path, Ct)).Replace("\"m\"", "\"x\"", StringComparison.Ordinal), Ct);
        var ex = await Assert.ThrowsAsync<PackageException>(() => _registry.BrowseAsync("team/data", null, Ct));
        Assert.Contains("changed after it was written", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    public async Task Bad_logical_keys_are_refused_before_anything_is_written(string key)
    {
        await Assert.ThrowsAsync<PackageException>(() => _service.CreateAsync(_registry,
            new CreatePackageRequest("team/data", [new InlineSource(key, "x"u8.ToArray())]), null, Ct));
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "reg")) && Directory.EnumerateFileSystemEntries(Path.Combine(_store.Root, "reg")).Any());
    }

    [Fact]
    public async Task Get_refuses_to_write_through_a_symlink()
    {
        var result = await _service.CreateAsync(_registry, new CreatePackageRequest("team/data", [new InlineSource("sub/file.txt", "x"u8.ToArray())]), null, Ct);
        var dest = Sub("dl");
        var outside = Sub("outside");
        Directory.CreateSymbolicLink(Path.Combine(dest, "sub"), outside);
        await Assert.ThrowsAsync<PackageException>(() => EntryDownloader.DownloadAsync(_service.Locator, result.Manifest.Entries, dest, cancellationToken: Ct));
        Assert.Empty(Directory.GetFiles(outside));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }
}
