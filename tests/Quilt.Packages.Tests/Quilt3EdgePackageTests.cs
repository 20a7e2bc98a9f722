using System.Text;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// Packages quilt3 wrote with odd manifests: browsed as quilt3 lists them, fetched to a folder where that is safe (and
/// refused, naming the key, writing nothing, where it is not), and patched without changing the lines quilt3 wrote.
/// </summary>
public sealed class Quilt3EdgePackageTests : IDisposable
{
    private const string DataHash = "CjJcowPrMBTEOuAElw80NjTbF2+haXvMjJ76yUYmSI0="; // the fixtures' one byte "x"

    private readonly TempDirectory _scratch = new("quilt-edge-tests");
    private readonly LocalFolderStore _store;
    private readonly PackageRegistry _registry;
    private readonly PackageService _service;
    private readonly string _dataFile;

    public Quilt3EdgePackageTests()
    {
        _store = new LocalFolderStore(Directory.CreateDirectory(_scratch.Combine("root")).FullName);
        _registry = new PackageRegistry(_store, "edge");
        _service = new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: true));
        _dataFile = _scratch.Combine("data", "x");
        Directory.CreateDirectory(Path.GetDirectoryName(_dataFile)!);
        File.WriteAllText(_dataFile, "x");
    }

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(EdgeFixtureCases.All), MemberType = typeof(EdgeFixtureCases))]
    public async Task Browse_lists_each_quilt3_edge_package_with_quilt3s_top_hash_and_keys(string name)
    {
        var package = EdgeFixtureCases.Install(_store, "edge", name, _dataFile);

        Assert.Contains(package, await _registry.ListPackagesAsync(null, Ct));
        var (hash, manifest) = await _registry.BrowseAsync(package, null, Ct);

        Assert.Equal(EdgeFixtureCases.TopHash(name), hash);
        Assert.Equal(EdgeFixtureCases.LogicalKeys(name), manifest.Entries.Select(e => e.LogicalKey));
        Assert.Equal(hash, Assert.Single(await _registry.ListRevisionsAsync(package, Ct)).TopHash);
    }

    [Theory]
    [InlineData("key_leading_slash", "'/abs'", "starts with '/'")]
    [InlineData("key_dotdot", "'a/../b'", "'..' segment")]
    [InlineData("key_double_slash", "'a//b'", "empty segment")]
    [InlineData("key_tab", "'t\\u0009ab'", "control character U+0009")]
    public async Task Get_refuses_a_key_that_is_no_safe_local_path_naming_it_and_writes_nothing(string name, string quotedKey, string rule)
    {
        var package = EdgeFixtureCases.Install(_store, "edge", name, _dataFile);
        var (_, manifest) = await _registry.BrowseAsync(package, null, Ct);
        var dest = _scratch.Combine("get", name);
        var before = Directory.GetFileSystemEntries(_scratch.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

        var ex = await Assert.ThrowsAsync<PackageException>(() => EntryDownloader.DownloadAsync(_service.Locator, manifest.Entries, dest, cancellationToken: Ct));

        Assert.Contains($"Entry {quotedKey} cannot be written below {dest}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(_scratch.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        Assert.False(File.Exists("/abs"));
    }

    [Theory]
    [InlineData("backslash_key", "back\\slash.txt")]
    [InlineData("size_float", "a.txt")]
    [InlineData("lone_surrogate_escape", "a.txt")]
    [InlineData("dir_line_without_slash", "d/a.txt")]
    public async Task Get_writes_the_entries_of_an_edge_package_whose_keys_are_safe_paths(string name, string key)
    {
        Assert.SkipWhen(key.Contains('\\', StringComparison.Ordinal) && LocalPaths.BackslashIsSeparator, "A backslash separates folders on Windows.");
        var package = EdgeFixtureCases.Install(_store, "edge", name, _dataFile);
        var (_, manifest) = await _registry.BrowseAsync(package, null, Ct);
        var dest = _scratch.Combine("get", name);

        var written = await EntryDownloader.DownloadAsync(_service.Locator, manifest.Entries, dest, cancellationToken: Ct);

        Assert.Equal([Path.Combine(dest, key)], written);
        Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(dest, key), Ct));
        Assert.Equal([Path.Combine(dest, key)], Directory.GetFiles(dest, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Get_checks_every_key_before_writing_any_entry()
    {
        var hash = new ObjectHash(ObjectHash.Sha256ChunkedType, DataHash);
        var file = PhysicalKey.File(_dataFile).ToString();
        // Read from a manifest (as quilt3 wrote it), the bad key last: one at a time, the good entry would be written first.
        var text = "{\"version\": \"v0\", \"message\": \"m\"}\n"
            + $"{{\"logical_key\": \"a/../b\", \"physical_keys\": [\"{file}\"], \"size\": 1, \"hash\": {{\"type\": \"sha2-256-chunked\", \"value\": \"{DataHash}\"}}, \"meta\": {{}}}}\n"
            + $"{{\"logical_key\": \"good.txt\", \"physical_keys\": [\"{file}\"], \"size\": 1, \"hash\": {{\"type\": \"sha2-256-chunked\", \"value\": \"{DataHash}\"}}, \"meta\": {{}}}}\n";
        var manifest = ManifestReader.Read(Encoding.UTF8.GetBytes(text));
        var entries = manifest.Entries.OrderByDescending(e => e.LogicalKey == "good.txt").ToList();
        Assert.Equal(hash, entries[0].Hash);
        var dest = _scratch.Combine("partial");

        await Assert.ThrowsAsync<PackageException>(() => EntryDownloader.DownloadAsync(_service.Locator, entries, dest, concurrency: 1, cancellationToken: Ct));

        Assert.False(Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest, "*", SearchOption.AllDirectories).Any());
    }

    [Theory]
    [MemberData(nameof(EdgeFixtureCases.All), MemberType = typeof(EdgeFixtureCases))]
    public async Task Patching_an_unrelated_entry_keeps_the_lines_quilt3_wrote_and_undoing_it_gives_quilt3s_top_hash(string name)
    {
        var package = EdgeFixtureCases.Install(_store, "edge", name, _dataFile);
        var (_, original) = await _registry.BrowseAsync(package, null, Ct);
        var originalLines = Encoding.UTF8.GetString(ManifestWriter.ToBytes(original)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var added = await _service.UpdateAsync(_registry, package, new PackageUpdate
        {
            Add = [new InlineSource("zz_added.txt", "x"u8.ToArray())],
            Message = "m",
        }, null, Ct);

        // Every line quilt3 wrote (as quilt3 writes it back: the last of repeated keys, meta {} for null) is there unchanged.
        var patchedFile = Path.Combine(_store.Root, "edge", ".quilt", "packages", added.Revision.TopHash);
        var patchedLines = (await File.ReadAllTextAsync(patchedFile, Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(originalLines, patchedLines.Where(l => !l.Contains("zz_added.txt", StringComparison.Ordinal)));
        Assert.Equal([.. EdgeFixtureCases.LogicalKeys(name), "zz_added.txt"], added.Manifest.Entries.Select(e => e.LogicalKey));

        // Take the added entry out again: the revision is quilt3's own once more, top hash and all.
        var removed = await _service.UpdateAsync(_registry, package, new PackageUpdate { Remove = ["zz_added.txt"], Message = "m" }, null, Ct);
        Assert.Equal(EdgeFixtureCases.TopHash(name), removed.Revision.TopHash);
    }

    [Fact]
    public async Task Pushing_with_copies_refuses_a_dot_dot_key_before_copying_anything()
    {
        var package = EdgeFixtureCases.Install(_store, "edge", "key_dotdot", _dataFile);
        var target = new PackageRegistry(_store, "pushed");

        var ex = await Assert.ThrowsAsync<PackageException>(() => _service.PushAsync(_registry, package, null, target, copyData: true, cancellationToken: Ct));

        Assert.Contains("Entry 'a/../b' cannot be copied to edge/key_dotdot/a/../b", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "pushed")));
    }

    [Fact]
    public async Task Creating_from_a_folder_keeps_a_backslash_in_a_file_name_as_quilt3_does()
    {
        Assert.SkipWhen(LocalPaths.BackslashIsSeparator, "A backslash separates folders on Windows.");
        var folder = Directory.CreateDirectory(_scratch.Combine("with-backslash")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "back\\slash.txt"), "x", Ct);

        var result = await _service.CreateAsync(_registry, new CreatePackageRequest("team/backslash", EntrySources.FromLocalPath(folder)) { Message = "m" }, null, Ct);

        Assert.Equal(["back\\slash.txt"], result.Manifest.Entries.Select(e => e.LogicalKey));
        // quilt3 made the same package from the same file: the same top hash.
        Assert.Equal(EdgeFixtureCases.TopHash("backslash_key"), result.Revision.TopHash);
        Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(_store.Root, "edge", "team", "backslash", "back\\slash.txt"), Ct));
    }

    [Theory]
    [InlineData("t\tab", "t\\u0009ab")]
    [InlineData("new\nline", "new\\u000Aline")]
    public async Task Creating_a_key_with_a_control_character_is_refused_naming_it(string key, string shown)
    {
        var ex = await Assert.ThrowsAsync<PackageException>(() => _service.CreateAsync(_registry,
            new CreatePackageRequest("team/control", [new InlineSource(key, "x"u8.ToArray())]), null, Ct));

        Assert.Contains($"'{shown}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("control characters", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "edge")));
    }
}
