using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Json;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// Writing metadata as quilt3 writes it (issue 16): directory metadata lines carried over and set by folder, JSON null as
/// <c>"user_meta": null</c>, numbers quilt3 cannot read refused before anything is written, and revisions named by tag.
/// </summary>
public sealed class Quilt3MetadataWriteTests : IDisposable
{
    private const string DirMeta = "dir_meta";

    private readonly TempDirectory _scratch = new("quilt-meta-write");
    private readonly LocalFolderStore _store;
    private readonly PackageRegistry _registry;
    private readonly PackageService _service;
    private readonly string _dataKey;

    public Quilt3MetadataWriteTests()
    {
        _store = new LocalFolderStore(Directory.CreateDirectory(_scratch.Combine("root")).FullName);
        _registry = new PackageRegistry(_store, "reg");
        _service = new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: true));
        var dataFile = _scratch.Combine("data", "x");
        Directory.CreateDirectory(Path.GetDirectoryName(dataFile)!);
        File.WriteAllText(dataFile, "x");
        _dataKey = PhysicalKey.File(dataFile).ToString();
    }

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string RegistryFolder => Path.Combine(_store.Root, "reg");

    private string InstallDirMeta() => Quilt3DerivedFixtures.Install(RegistryFolder, DirMeta, _dataKey);

    private string[] ManifestLines(string topHash) =>
        File.ReadAllText(Path.Combine(RegistryFolder, ".quilt", "packages", topHash)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Patch_keeps_every_line_of_a_quilt3_revision_it_does_not_touch_byte_for_byte()
    {
        var package = InstallDirMeta();
        var quilt3Lines = Quilt3DerivedFixtures.Lines(DirMeta, _dataKey);

        var patched = await _service.UpdateAsync(_registry, package, new PackageUpdate
        {
            Add = [new InlineSource("zz.txt", "x"u8.ToArray())],
            Message = "folders with metadata",
        }, null, Ct);

        // The directory lines (sub/ and sub/deeper/) and every entry quilt3 wrote are there as quilt3 wrote them, in its order.
        var lines = ManifestLines(patched.Revision.TopHash);
        Assert.Equal(quilt3Lines, lines.Where(l => !l.Contains("\"zz.txt\"", StringComparison.Ordinal)));
        Assert.Equal(["sub/", "sub/deeper/"], patched.Manifest.DirectoryMetadata.Select(d => d.LogicalKey));

        // Taken out again, the revision is quilt3's own: its top hash, and its manifest byte for byte.
        var undone = await _service.UpdateAsync(_registry, package, new PackageUpdate { Remove = ["zz.txt"], Message = "folders with metadata" }, null, Ct);
        Assert.Equal(Quilt3DerivedFixtures.TopHash(DirMeta), undone.Revision.TopHash);
        Assert.Equal(quilt3Lines, ManifestLines(undone.Revision.TopHash));
    }

    [Fact]
    public async Task Patch_sets_replaces_and_removes_a_folders_metadata_and_removing_a_folder_takes_its_metadata()
    {
        var package = InstallDirMeta();

        var set = await _service.UpdateAsync(_registry, package, new PackageUpdate
        {
            SetDirectoryMeta = new Dictionary<string, JsonNode?> { ["sub/deeper"] = new JsonObject { ["level"] = 3 }, ["sub/"] = null },
            Message = "changed folders",
        }, null, Ct);

        var lines = ManifestLines(set.Revision.TopHash);
        Assert.Equal("{\"logical_key\": \"sub/deeper/\", \"meta\": {\"level\": 3}}", lines[1]);
        Assert.DoesNotContain(lines, l => l.StartsWith("{\"logical_key\": \"sub/\", \"meta\"", StringComparison.Ordinal));
        Assert.Equal(3, set.Manifest.Entries.Count);
        // The top hash leaves folder metadata out; the changes say it changed.
        Assert.True(set.ChangesFromPrevious!.MetadataChanged);
        Assert.Equal(3, set.ChangesFromPrevious.Unchanged);

        var removed = await _service.UpdateAsync(_registry, package, new PackageUpdate { Remove = ["sub/deeper"], Message = "m" }, null, Ct);
        Assert.Empty(removed.Manifest.DirectoryMetadata);
    }

    [Theory]
    [InlineData("nothing/", "no entry of derived/dir_meta is in it")]
    [InlineData("/", "is the package metadata")]
    [InlineData("sub/../x/", "'.' or '..'")]
    public async Task Patch_refuses_directory_metadata_for_a_folder_that_is_not_one_and_publishes_nothing(string folder, string problem)
    {
        var package = InstallDirMeta();

        var ex = await Assert.ThrowsAsync<PackageException>(() => _service.UpdateAsync(_registry, package, new PackageUpdate
        {
            SetDirectoryMeta = new Dictionary<string, JsonNode?> { [folder] = new JsonObject { ["k"] = 1 } },
        }, null, Ct));

        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.Single(await _registry.ListRevisionsAsync(package, Ct));
    }

    [Fact]
    public async Task Push_keeps_directory_metadata()
    {
        var package = InstallDirMeta();
        var target = new PackageRegistry(_store, "pushed");

        var pushed = await _service.PushAsync(_registry, package, null, target, copyData: true, cancellationToken: Ct);

        Assert.Equal(Quilt3DerivedFixtures.TopHash(DirMeta), pushed.Revision.TopHash);
        var lines = File.ReadAllText(Path.Combine(_store.Root, "pushed", ".quilt", "packages", pushed.Revision.TopHash)).Split('\n');
        var quilt3Lines = Quilt3DerivedFixtures.Lines(DirMeta, _dataKey);
        Assert.Equal(quilt3Lines[..3], lines[..3]);
    }

    [Fact]
    public async Task Create_with_directory_metadata_writes_the_line_quilt3_writes()
    {
        var created = await _service.CreateAsync(_registry, new CreatePackageRequest("team/dirs",
            [new InlineSource("sub/deeper/c.txt", "x"u8.ToArray()), new InlineSource("sub/b.txt", "x"u8.ToArray())])
        {
            Message = "m",
            DirectoryMeta = new Dictionary<string, JsonNode?>
            {
                ["sub/deeper/"] = JsonNode.Parse("{\"level\": 2}"),
                ["sub"] = PythonJson.Parse("{\"k\": 1, \"note\": \"größe\", \"nested\": {\"b\": [1, 2.5, null]}}"u8),
            },
        }, null, Ct);

        var lines = ManifestLines(created.Revision.TopHash);
        var quilt3Lines = Quilt3DerivedFixtures.Lines(DirMeta, _dataKey);
        // quilt3's order: the package line, then folders depth first by name, then entries.
        Assert.Equal(quilt3Lines[1..3], lines[1..3]);
    }

    [Fact]
    public async Task Json_null_package_and_entry_metadata_write_quilt3s_null_and_its_top_hashes()
    {
        var package = await _service.CreateAsync(_registry, new CreatePackageRequest("team/pnull", [new InlineSource("a.txt", "x"u8.ToArray())])
        {
            Message = "m",
            NullUserMeta = true,
        }, null, Ct);
        var entry = await _service.CreateAsync(_registry, new CreatePackageRequest("team/enull",
            [new InlineSource("a.txt", "x"u8.ToArray()) { NullUserMeta = true }]) { Message = "m" }, null, Ct);

        // quilt3's set_meta(None) on the package and on the entry: the fixtures' lines and top hashes.
        Assert.Equal(Quilt3EdgeFixtures.TopHash("package_user_meta_null"), package.Revision.TopHash);
        Assert.Equal("{\"version\": \"v0\", \"user_meta\": null, \"message\": \"m\"}", ManifestLines(package.Revision.TopHash)[0]);
        Assert.Equal(Quilt3EdgeFixtures.TopHash("entry_user_meta_null"), entry.Revision.TopHash);
        Assert.EndsWith("\"meta\": {\"user_meta\": null}}", ManifestLines(entry.Revision.TopHash)[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_with_json_null_sets_user_meta_null_and_keeps_the_rest_of_an_entrys_meta()
    {
        var package = InstallDirMeta();

        var patched = await _service.UpdateAsync(_registry, package, new PackageUpdate
        {
            SetEntryMeta = new Dictionary<string, JsonNode?> { ["sub/b.txt"] = null, ["sub/deeper/c.txt"] = new JsonObject { ["y"] = 2 } },
            NullUserMeta = true,
            Message = "m",
        }, null, Ct);

        var lines = ManifestLines(patched.Revision.TopHash);
        Assert.Equal("{\"version\": \"v0\", \"user_meta\": null, \"message\": \"m\"}", lines[0]);
        Assert.EndsWith("\"logical_key\": \"sub/b.txt\"", lines[4][..(lines[4].IndexOf(", \"physical", StringComparison.Ordinal))], StringComparison.Ordinal);
        Assert.EndsWith("\"meta\": {\"user_meta\": null}}", lines[4], StringComparison.Ordinal);
        // quilt3's set_meta replaces user_meta only: the entry's "format" stays.
        Assert.EndsWith("\"meta\": {\"user_meta\": {\"y\": 2}, \"format\": \"txt\"}}", lines[5], StringComparison.Ordinal);
    }

    public static TheoryData<string, string> UnreadableNumbers => new()
    {
        { "{\"n\": " + new string('9', Limits.RefusedDigits) + "}", "$.n" },
        { "{\"deep\": [{\"odd key\": -" + new string('1', Limits.RefusedDigits) + "}]}", "$.deep[0][\"odd key\"]" },
        { "{\"f\": " + Limits.FloatBeyondDouble + "}", "$.f" },
    };

    [Theory]
    [MemberData(nameof(UnreadableNumbers))]
    public async Task Metadata_quilt3_could_not_read_is_refused_naming_where_before_anything_is_written(string json, string path)
    {
        var meta = PythonJson.Parse(Encoding.UTF8.GetBytes(json));
        var requests = new[]
        {
            new CreatePackageRequest("team/big", [new InlineSource("a.txt", "x"u8.ToArray())]) { UserMeta = meta },
            new CreatePackageRequest("team/big", [new InlineSource("a.txt", "x"u8.ToArray()) { UserMeta = meta }]),
            new CreatePackageRequest("team/big", [new InlineSource("d/a.txt", "x"u8.ToArray())]) { DirectoryMeta = new Dictionary<string, JsonNode?> { ["d/"] = meta } },
        };
        string[] where = ["The package line", "The metadata of entry 'a.txt'", "The metadata of folder 'd/'"];
        for (var i = 0; i < requests.Length; i++)
        {
            var ex = await Assert.ThrowsAsync<PackageException>(() => _service.CreateAsync(_registry, requests[i], null, Ct));

            Assert.StartsWith(where[i], ex.Message, StringComparison.Ordinal);
            Assert.Contains($" at {(i == 0 ? "$.user_meta" + path[1..] : path)}.", ex.Message, StringComparison.Ordinal);
            Assert.Contains(json.Contains(Limits.FloatBeyondDouble, StringComparison.Ordinal) ? "infinity" : $"more than the {Limits.MaxDigits:N0}", ex.Message, StringComparison.Ordinal);
        }
        // Nothing was written: no data, no manifest, no package.
        Assert.False(Directory.Exists(RegistryFolder));
    }

    [Fact]
    public async Task An_integer_of_as_many_digits_as_python_reads_is_published()
    {
        var meta = PythonJson.Parse(Encoding.UTF8.GetBytes("{\"n\": " + new string('9', Limits.MaxDigits) + "}"));

        var created = await _service.CreateAsync(_registry, new CreatePackageRequest("team/big", [new InlineSource("a.txt", "x"u8.ToArray())]) { UserMeta = meta }, null, Ct);

        Assert.Contains(new string('9', Limits.MaxDigits), ManifestLines(created.Revision.TopHash)[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tag_names_a_pointer_file_even_when_it_looks_like_a_hash_prefix()
    {
        var package = InstallDirMeta();
        var first = Quilt3DerivedFixtures.TopHash(DirMeta);
        var second = await _service.UpdateAsync(_registry, package, new PackageUpdate { Message = "second" }, null, Ct);

        // A revision's unix timestamp is all digits, so hex: as ':tag' (the catalog's URI form) and bare, it names the pointer.
        Assert.Equal(first, await _registry.ResolveTopHashAsync(package, ":" + Quilt3DerivedFixtures.TimestampTag, Ct));
        Assert.Equal(first, await _registry.ResolveTopHashAsync(package, Quilt3DerivedFixtures.TimestampTag, Ct));
        Assert.Equal(second.Revision.TopHash, await _registry.ResolveTopHashAsync(package, ":latest", Ct));
        Assert.Equal(first, await _registry.ResolveTopHashAsync(package, "@" + first[..8], Ct));

        var unknown = await Assert.ThrowsAsync<PackageException>(() => _registry.ResolveTopHashAsync(package, ":1700000001", Ct));
        Assert.Contains("has no tag '1700000001'", unknown.Message, StringComparison.Ordinal);
        var prefixAsHash = await Assert.ThrowsAsync<PackageException>(() => _registry.ResolveTopHashAsync(package, "@" + Quilt3DerivedFixtures.TimestampTag, Ct));
        Assert.Contains("No revision of derived/dir_meta has a top hash starting with", prefixAsHash.Message, StringComparison.Ordinal);
        var escape = await Assert.ThrowsAsync<PackageException>(() => _registry.ResolveTopHashAsync(package, ":../../x/latest", Ct));
        Assert.Contains("is not a tag", escape.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PackageNotFoundException>(() => _registry.ResolveTopHashAsync("derived/none", ":latest", Ct));
    }

    /// <summary>What Python 3.11's json does with big numbers (TestData/quilt3-derived/int_max_str_digits).</summary>
    private static class Limits
    {
        private static readonly JsonObject Case = Quilt3DerivedFixtures.Case("int_max_str_digits");

        public static int MaxDigits => Case["max_digits_read"]!.GetValue<int>();

        public static int RefusedDigits => Case["refused_digits"]!.GetValue<int>();

        public static string FloatBeyondDouble => Case["float_beyond_double"]!.GetValue<string>();
    }
}
