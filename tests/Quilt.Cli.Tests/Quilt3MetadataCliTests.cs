using System.Text.Json.Nodes;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>
/// The command line writing metadata as quilt3 writes it and reading Quilt+ URIs as the catalog does (issue 16): folder
/// metadata shown, set and kept; JSON null kept; numbers quilt3 cannot read refused; ':tag', '@hash' and '&amp;path='.
/// </summary>
public sealed class Quilt3MetadataCliTests : IDisposable
{
    private const string DirMeta = "dir_meta";

    private readonly TempDirectory _scratch = new("quilt-cli-meta");
    private readonly CliRunner _cli;
    private readonly string _data;

    public Quilt3MetadataCliTests()
    {
        _cli = new CliRunner(_scratch.Combine("root"));
        _data = _scratch.Combine("data", "a.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(_data)!);
        File.WriteAllText(_data, "x");
    }

    public void Dispose() => _scratch.Dispose();

    private string DataKey => new Uri(_data).AbsoluteUri;

    private string Install() => Quilt3DerivedFixtures.Install(Path.Combine(_cli.Root, "local"), DirMeta, DataKey);

    private string[] ManifestLines(string registry, string topHash) =>
        File.ReadAllText(Path.Combine(_cli.Root, registry, ".quilt", "packages", topHash)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string TopHashOf(string json) => JsonNode.Parse(json)!["top_hash"]!.GetValue<string>();

    [Fact]
    public async Task Browse_shows_each_folders_directory_metadata()
    {
        var package = Install();

        var json = JsonNode.Parse(await _cli.OkAsync("package", "browse", package, "--json"))!;
        var text = await _cli.OkAsync("package", "browse", package);

        var dirs = json["directories"]!.AsArray();
        Assert.Equal(["sub/", "sub/deeper/"], dirs.Select(d => d!["logical_key"]!.GetValue<string>()));
        Assert.Equal("größe", dirs[0]!["meta"]!["note"]!.GetValue<string>());
        Assert.Contains("folder  sub/deeper/  {\"level\": 2}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_with_dir_meta_writes_quilt3s_directory_lines_and_push_keeps_them()
    {
        var created = TopHashOf(await _cli.OkAsync("package", "create", "team/dirs", $"sub/b.txt={_data}", $"sub/deeper/c.txt={_data}", "-m", "m",
            "--dir-meta", "sub/deeper/={\"level\": 2}", "--dir-meta", "sub={\"k\": 1, \"note\": \"größe\", \"nested\": {\"b\": [1, 2.5, null]}}", "--json"));
        var quilt3Lines = Quilt3DerivedFixtures.Lines(DirMeta, DataKey);
        Assert.Equal(quilt3Lines[1..3], ManifestLines("local", created)[1..3]);

        var pushed = TopHashOf(await _cli.OkAsync("package", "push", "team/dirs", "--to", "other", "--json"));
        Assert.Equal(created, pushed);
        Assert.Equal(quilt3Lines[1..3], ManifestLines("other", pushed)[1..3]);

        var refused = await _cli.RunAsync("package", "create", "team/nodir", $"a.txt={_data}", "--dir-meta", "nothing/={\"k\": 1}");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("no entry of team/nodir is in it", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Meta_null_and_entry_meta_null_write_quilt3s_null_and_its_top_hashes()
    {
        var package = TopHashOf(await _cli.OkAsync("package", "create", "team/pnull", _data, "-m", "m", "--meta", "null", "--json"));
        var entry = TopHashOf(await _cli.OkAsync("package", "create", "team/enull", _data, "-m", "m", "--entry-meta", "a.txt=null", "--json"));

        Assert.Equal(Quilt3EdgeFixtures.TopHash("package_user_meta_null"), package);
        Assert.Equal("{\"version\": \"v0\", \"user_meta\": null, \"message\": \"m\"}", ManifestLines("local", package)[0]);
        Assert.Equal(Quilt3EdgeFixtures.TopHash("entry_user_meta_null"), entry);
        Assert.EndsWith("\"meta\": {\"user_meta\": null}}", ManifestLines("local", entry)[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_integer_quilt3_could_not_read_is_refused_naming_where_and_nothing_is_written()
    {
        var digits = Quilt3DerivedFixtures.Case("int_max_str_digits")["refused_digits"]!.GetValue<int>();

        var result = await _cli.RunAsync("package", "create", "team/big", _data, "--meta", "{\"n\": " + new string('9', digits) + "}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("The package line holds an integer of 4,301 digits, more than the 4,300 Python reads", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("at $.user_meta.n.", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "local")));
    }

    [Fact]
    public async Task A_uri_tag_names_a_pointer_file_and_an_at_names_a_hash()
    {
        var package = Install();
        var first = Quilt3DerivedFixtures.TopHash(DirMeta);
        var second = TopHashOf(await _cli.OkAsync("package", "create", package, _data, "--overwrite", "-m", "second", "--json"));
        var uri = "quilt+s3://local#package=" + package;

        Assert.Equal(first, TopHashOf(await _cli.OkAsync("package", "browse", uri + ":" + Quilt3DerivedFixtures.TimestampTag, "--json")));
        Assert.Equal(second, TopHashOf(await _cli.OkAsync("package", "browse", uri + ":latest", "--json")));
        Assert.Equal(first, TopHashOf(await _cli.OkAsync("package", "browse", uri + "@" + first[..10], "--json")));
        Assert.Equal(first, TopHashOf(await _cli.OkAsync("package", "browse", package, "--revision", ":" + Quilt3DerivedFixtures.TimestampTag, "--json")));

        var unknown = await _cli.RunAsync("package", "browse", uri + ":1700000001");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("has no tag '1700000001'", unknown.Stderr, StringComparison.Ordinal);
        var twice = await _cli.RunAsync("package", "browse", uri + "&package=team/other");
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("\"package=\" more than once", twice.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_and_browse_of_a_uri_with_a_path_take_only_that_entry_or_folder()
    {
        var package = Install();
        var uri = "quilt+s3://local#package=" + package;
        var oneFile = _scratch.Combine("one");
        var folder = _scratch.Combine("folder");

        await _cli.OkAsync("package", "get", uri + "&path=sub/b.txt", "--dest", oneFile);
        await _cli.OkAsync("package", "get", uri + "&path=sub%2Fdeeper", "--dest", folder);
        var browsed = JsonNode.Parse(await _cli.OkAsync("package", "browse", uri + "&path=sub/deeper/c.txt", "--json"))!;

        Assert.Equal([Path.Combine(oneFile, "sub", "b.txt")], Directory.GetFiles(oneFile, "*", SearchOption.AllDirectories));
        Assert.Equal([Path.Combine(folder, "sub", "deeper", "c.txt")], Directory.GetFiles(folder, "*", SearchOption.AllDirectories));
        Assert.Equal(["sub/deeper/c.txt"], browsed["entries"]!.AsArray().Select(e => e!["logical_key"]!.GetValue<string>()));
        var missing = await _cli.RunAsync("package", "get", uri + "&path=nope", "--dest", _scratch.Combine("none"));
        Assert.Equal(1, missing.ExitCode);
        Assert.False(Directory.Exists(_scratch.Combine("none")));
    }
}
