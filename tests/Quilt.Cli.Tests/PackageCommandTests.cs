using System.Text.Json.Nodes;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

public sealed class PackageCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("quilt-cli-tests");
    private readonly string _scratch;
    private readonly CliRunner _cli;

    public PackageCommandTests()
    {
        _scratch = _temp.Path;
        _cli = new CliRunner(Path.Combine(_scratch, "root"));
    }

    public void Dispose() => _temp.Dispose();

    private static string FixtureRoot => Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3");

    [Theory]
    [InlineData("basic")]
    [InlineData("boundaries")]
    [InlineData("metadata")]
    [InlineData("nometa")]
    public async Task Tophash_prints_quilt3s_top_hash_of_a_manifest_file(string name)
    {
        var manifest = Directory.GetFiles(Path.Combine(FixtureRoot, name, "registry", ".quilt", "packages")).Single();
        var expected = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(FixtureRoot, name, "case.json"), TestContext.Current.CancellationToken))!["top_hash"]!.GetValue<string>();
        Assert.Equal(expected, (await _cli.OkAsync("package", "tophash", manifest)).Trim());
    }

    [Fact]
    public async Task Tophash_of_a_broken_manifest_says_which_line_is_wrong()
    {
        var path = Path.Combine(_scratch, "broken.jsonl");
        await File.WriteAllTextAsync(path, "{\"version\": \"v0\"}\n{\"logical_key\": \"a\"\n", TestContext.Current.CancellationToken);
        var result = await _cli.RunAsync("package", "tophash", path);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 2", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Create_list_revisions_browse_diff_verify_get_on_the_local_default()
    {
        var data = Path.Combine(_scratch, "data");
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        await File.WriteAllTextAsync(Path.Combine(data, "a.csv"), "x,y\n1,2\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(data, "sub", "b.txt"), "hello", TestContext.Current.CancellationToken);

        var created = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/data", data, "-m", "first", "--meta", "{\"k\": 1}", "--json"))!;
        var first = created["top_hash"]!.GetValue<string>();
        Assert.Equal(2, created["entries"]!.GetValue<int>());
        Assert.Equal($"quilt+s3://local#package=team/data@{first}", created["uri"]!.GetValue<string>());
        // The registry is quilt3's layout inside the 'local' bucket folder.
        Assert.Equal(first, await File.ReadAllTextAsync(Path.Combine(_cli.Root, "local", ".quilt", "named_packages", "team", "data", "latest"), TestContext.Current.CancellationToken));

        var again = await _cli.RunAsync("package", "create", "team/data", data);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr, StringComparison.Ordinal);
        // The refusal names this command line's ways on: the option, and the command that changes a package.
        Assert.Contains("--overwrite", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("quilt-mcp package patch", again.Stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(data, "c.txt"), "new", TestContext.Current.CancellationToken);
        var second = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/data", data, "-m", "second", "--overwrite", "--json"))!;
        Assert.Equal(["c.txt"], second["changes"]!["added"]!.AsArray().Select(n => n!.GetValue<string>()));

        Assert.Equal(["team/data"], JsonNode.Parse(await _cli.OkAsync("package", "list", "--names-only", "--json"))!.AsArray().Select(n => n!.GetValue<string>()));
        var revisions = JsonNode.Parse(await _cli.OkAsync("package", "revisions", "team/data", "--json"))!.AsArray();
        Assert.Equal([second["top_hash"]!.GetValue<string>(), first], revisions.Select(r => r!["top_hash"]!.GetValue<string>()));
        Assert.Equal(["second", "first"], revisions.Select(r => r!["message"]!.GetValue<string>()));

        var browse = JsonNode.Parse(await _cli.OkAsync("package", "browse", $"quilt+s3://local#package=team/data@{first[..8]}", "--json"))!;
        Assert.Equal(["a.csv", "sub/b.txt"], browse["entries"]!.AsArray().Select(e => e!["logical_key"]!.GetValue<string>()));

        var diff = JsonNode.Parse(await _cli.OkAsync("package", "diff", "team/data", first[..10], "--json"))!;
        Assert.Equal(["c.txt"], diff["added"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.True(diff["message_changed"]!.GetValue<bool>());

        Assert.Contains("ok: 3 entries match", await _cli.OkAsync("package", "verify", "team/data"), StringComparison.Ordinal);

        var dest = Path.Combine(_scratch, "out");
        await _cli.OkAsync("package", "get", "team/data", "sub", "--dest", dest);
        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Combine(dest, "sub", "b.txt"), TestContext.Current.CancellationToken));
        Assert.False(File.Exists(Path.Combine(dest, "a.csv")));

        await _cli.OkAsync("package", "delete", "team/data", second["top_hash"]!.GetValue<string>());
        Assert.Contains(first, await _cli.OkAsync("package", "browse", "team/data"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_from_a_folder_obeys_its_quiltignore_and_follows_links_inside_it_as_quilt3_does()
    {
        var ct = TestContext.Current.CancellationToken;
        var data = Path.Combine(_scratch, "ignoring");
        Directory.CreateDirectory(Path.Combine(data, "logs"));
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        await File.WriteAllTextAsync(Path.Combine(data, "a.csv"), "x,y\n1,2\n", ct);
        await File.WriteAllTextAsync(Path.Combine(data, "b.csv"), "ignored by [b].csv", ct);
        await File.WriteAllTextAsync(Path.Combine(data, "sub", "t.tmp"), "ignored by *.tmp", ct);
        await File.WriteAllTextAsync(Path.Combine(data, "logs", "run.log"), "ignored by logs", ct);
        // CRLF, as Windows editors write it: Python's text mode reads it as LF.
        await File.WriteAllTextAsync(Path.Combine(data, ".quiltignore"), "*.tmp\r\nlogs\r\n[b].csv\r\n", ct);
        File.CreateSymbolicLink(Path.Combine(data, "sub", "link.csv"), Path.Combine("..", "a.csv"));

        // prefix=folder and a local registry without copying: the entries reference the files in place.
        var created = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/ignoring", "in=" + data, "--no-copy", "--json"))!;
        var browse = JsonNode.Parse(await _cli.OkAsync("package", "browse", "team/ignoring", "--json"))!["entries"]!.AsArray();
        Assert.Equal(["in/.quiltignore", "in/a.csv", "in/sub/link.csv"], browse.Select(e => e!["logical_key"]!.GetValue<string>()));
        // quilt3 records the link's resolved target (os.path.realpath) as the physical key.
        var target = new Uri(Path.Combine(data, "a.csv")).AbsoluteUri;
        Assert.Equal(target, browse.Single(e => e!["logical_key"]!.GetValue<string>() == "in/sub/link.csv")!["physical_key"]!.GetValue<string>());

        // The top hash is that of the kept files alone.
        var reference = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/reference",
            "in/.quiltignore=" + Path.Combine(data, ".quiltignore"), "in/a.csv=" + Path.Combine(data, "a.csv"),
            "in/sub/link.csv=" + Path.Combine(data, "a.csv"), "--json"))!;
        Assert.Equal(reference["top_hash"]!.GetValue<string>(), created["top_hash"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_from_a_folder_with_a_link_out_of_it_is_refused_naming_the_link_and_publishes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var secret = Path.Combine(_scratch, "home", ".ssh", "id_ed25519");
        Directory.CreateDirectory(Path.GetDirectoryName(secret)!);
        await File.WriteAllTextAsync(secret, "secret", ct);
        var data = Path.Combine(_scratch, "leaky");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "ok.txt"), "ok", ct);
        File.CreateSymbolicLink(Path.Combine(data, "deploy-key"), secret);
        File.CreateSymbolicLink(Path.Combine(data, "stale"), Path.Combine(_scratch, "no-such-file"));

        var result = await _cli.RunAsync("package", "create", "team/leaky", data);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"'deploy-key' -> '{secret}' (a file outside the folder)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"'stale' -> '{Path.Combine(_scratch, "no-such-file")}' (it leads to nothing", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("KEY=/path/to/target", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "local", ".quilt", "named_packages")));

        // Given on purpose, the target is packaged under the key asked for.
        var created = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/leaky", "ok.txt=" + Path.Combine(data, "ok.txt"), "deploy-key=" + secret, "--json"))!;
        Assert.Equal(2, created["entries"]!.GetValue<int>());
    }

    [Fact]
    public async Task Verify_fails_when_stored_data_changed()
    {
        var file = Path.Combine(_scratch, "f.txt");
        await File.WriteAllTextAsync(file, "original", TestContext.Current.CancellationToken);
        await _cli.OkAsync("package", "create", "team/v", file);
        await File.WriteAllTextAsync(Path.Combine(_cli.Root, "local", "team", "v", "f.txt"), "tampered", TestContext.Current.CancellationToken);
        var result = await _cli.RunAsync("package", "verify", "team/v");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("MISMATCH f.txt", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("package create bad-name {file}", "Invalid package name")]
    [InlineData("package create team/x {scratch}/nope.txt", "does not exist")]
    [InlineData("package browse team/none", "No package 'team/none'")]
    [InlineData("package create team/x {file} --meta {not-json", "--meta must be JSON")]
    [InlineData("package create team/x ../x={file}", "Invalid logical key")]
    [InlineData("--storage ftp package list", "Invalid storage 'ftp'")]
    [InlineData("package diff team/none zzzzzz", "No package")]
    public async Task Bad_input_gives_a_clear_error_and_writes_nothing(string commandLine, string expected)
    {
        var file = Path.Combine(_scratch, "in.txt");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);
        var args = commandLine.Replace("{file}", file, StringComparison.Ordinal).Replace("{scratch}", _scratch, StringComparison.Ordinal).Split(' ');
        var result = await _cli.RunAsync(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "local", ".quilt", "named_packages")));
    }

    // The CLI and the MCP tools share one set of package rules (PackageOperations); where they differed, the stricter or
    // clearer rule won. Each test below fails on the CLI as it was.

    [Fact]
    public async Task A_revision_option_that_disagrees_with_the_uris_revision_is_refused_not_silently_preferred()
    {
        var file = Path.Combine(_scratch, "r.txt");
        await File.WriteAllTextAsync(file, "one", TestContext.Current.CancellationToken);
        var first = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/rev", file, "--json"))!["top_hash"]!.GetValue<string>();
        await File.WriteAllTextAsync(file, "two", TestContext.Current.CancellationToken);
        var second = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/rev", file, "--overwrite", "--json"))!["top_hash"]!.GetValue<string>();

        var result = await _cli.RunAsync("package", "browse", $"quilt+s3://local#package=team/rev@{first}", "--revision", second);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("disagrees with the revision in package", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(first, await _cli.OkAsync("package", "browse", $"quilt+s3://local#package=team/rev@{first}", "--revision", first), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_names_what_a_top_hash_is_when_given_a_tag()
    {
        var file = Path.Combine(_scratch, "d.txt");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);
        await _cli.OkAsync("package", "create", "team/del", file);
        var result = await _cli.RunAsync("package", "delete", "team/del", "latest");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("topHash 'latest' is not a top hash: give 6 to 64 lowercase hex characters", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("team/del", await _cli.OkAsync("package", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_takes_an_entry_of_another_package_by_its_quilt_uri_keeping_its_hash()
    {
        var file = Path.Combine(_scratch, "e.txt");
        await File.WriteAllTextAsync(file, "entry", TestContext.Current.CancellationToken);
        await _cli.OkAsync("package", "create", "team/from", file);
        var entry = "quilt+s3://local#package=team/from&path=e.txt";

        // As KEY=SOURCE too: the '=' of a Quilt+ URI does not split it.
        await _cli.OkAsync("package", "create", "team/to", entry, "copy/e.txt=" + entry);
        var entries = JsonNode.Parse(await _cli.OkAsync("package", "browse", "team/to", "--json"))!["entries"]!.AsArray();
        Assert.Equal(["copy/e.txt", "e.txt"], entries.Select(e => e!["logical_key"]!.GetValue<string>()));
        var original = JsonNode.Parse(await _cli.OkAsync("package", "browse", "team/from", "--json"))!["entries"]![0]!["hash"]!.ToJsonString();
        Assert.All(entries, e => Assert.Equal(original, e!["hash"]!.ToJsonString()));
    }

    [Fact]
    public async Task Object_put_ls_cat_get_round_trip_on_local_storage()
    {
        var file = Path.Combine(_scratch, "obj.bin");
        var bytes = new byte[3_000_000];
        Random.Shared.NextBytes(bytes);
        await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);
        await _cli.OkAsync("object", "put", file, "s3://bucket-a/dir/obj.bin");
        Assert.Contains("dir/", await _cli.OkAsync("object", "ls", "s3://bucket-a/"), StringComparison.Ordinal);
        var listed = JsonNode.Parse(await _cli.OkAsync("object", "ls", "s3://bucket-a/dir/", "--json"))!.AsArray();
        Assert.Equal(bytes.Length, Assert.Single(listed)!["size"]!.GetValue<long>());
        var dest = Path.Combine(_scratch, "back.bin");
        await _cli.OkAsync("object", "get", "s3://bucket-a/dir/obj.bin", dest);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(dest, TestContext.Current.CancellationToken));
        var refused = await _cli.RunAsync("object", "put", file, "s3://bucket-a/dir/obj.bin", "--no-overwrite");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("already exists", refused.Stderr, StringComparison.Ordinal);
        var escape = await _cli.RunAsync("object", "put", file, "s3://bucket-a/../../etc/x");
        Assert.Equal(1, escape.ExitCode);
    }

    [Fact]
    public async Task List_shows_each_packages_latest_revision_as_text_and_json()
    {
        var data = Path.Combine(_scratch, "listed");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "alpha", TestContext.Current.CancellationToken);
        var hash = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/listed", data, "-m", "the message", "--meta", "{\"k\": 1}", "--json"))!["top_hash"]!.GetValue<string>();

        var text = await _cli.OkAsync("package", "list");
        Assert.Matches($@"^team/listed  \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ +{hash[..12]}  1 entries, 5 B  ""the message""$", text.Trim());

        var json = Assert.Single(JsonNode.Parse(await _cli.OkAsync("package", "list", "--json"))!.AsArray())!;
        Assert.Equal(("team/listed", hash, "the message", 1), (json["name"]!.GetValue<string>(), json["top_hash"]!.GetValue<string>(),
            json["message"]!.GetValue<string>(), json["user_meta"]!["k"]!.GetValue<int>()));
        Assert.True(DateTimeOffset.TryParse(json["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(["team/listed"], JsonNode.Parse(await _cli.OkAsync("package", "list", "--names-only", "--json"))!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Diff_shows_renames_and_why_entries_changed_as_text_and_json()
    {
        var data = Path.Combine(_scratch, "why");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "alpha", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(data, "b.txt"), "beta", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(data, "keep.txt"), "kept", TestContext.Current.CancellationToken);
        var longer = Path.Combine(_scratch, "a2.txt");
        await File.WriteAllTextAsync(longer, "alpha, longer", TestContext.Current.CancellationToken);
        var first = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/why", data, "-m", "first", "--json"))!["top_hash"]!.GetValue<string>();
        await _cli.OkAsync("package", "patch", "team/why", "--add", $"a.txt={longer}", "--rename", "b.txt=moved/b.txt",
            "--entry-meta", "keep.txt={\"tag\": \"x\"}", "-m", "second");

        var text = await _cli.OkAsync("package", "diff", "team/why", first[..10]);
        Assert.Contains("R b.txt -> moved/b.txt", text, StringComparison.Ordinal);
        Assert.Contains("M a.txt  size 5 -> 13, hash sha2-256-chunked:", text, StringComparison.Ordinal);
        Assert.Contains("M keep.txt  metadata +tag", text, StringComparison.Ordinal);
        Assert.Contains("message: \"first\" -> \"second\"", text, StringComparison.Ordinal);
        Assert.Contains("0 added, 0 removed, 1 renamed, 2 modified, 0 unchanged", text, StringComparison.Ordinal);

        var json = JsonNode.Parse(await _cli.OkAsync("package", "diff", "team/why", first[..10], "--json"))!;
        Assert.Empty(json["added"]!.AsArray());
        Assert.Empty(json["removed"]!.AsArray());
        var renamed = Assert.Single(json["renamed"]!.AsArray())!;
        Assert.Equal(("b.txt", "moved/b.txt"), (renamed["from"]!.GetValue<string>(), renamed["to"]!.GetValue<string>()));
        var modified = json["modified"]!.AsArray().ToDictionary(m => m!["logical_key"]!.GetValue<string>(), m => m!);
        Assert.Equal((5, 13), (modified["a.txt"]["size"]!["from"]!.GetValue<long>(), modified["a.txt"]["size"]!["to"]!.GetValue<long>()));
        Assert.Null(modified["keep.txt"]["hash"]);
        Assert.Equal(["tag"], modified["keep.txt"]["metadata"]!["added"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("second", json["message"]!["to"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_adds_removes_renames_and_sets_metadata_keeping_everything_else()
    {
        var data = Path.Combine(_scratch, "patch-data");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "alpha", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(data, "b.txt"), "beta", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(data, "keep.txt"), "kept", TestContext.Current.CancellationToken);
        var extra = Path.Combine(_scratch, "extra.txt");
        await File.WriteAllTextAsync(extra, "gamma", TestContext.Current.CancellationToken);
        var first = JsonNode.Parse(await _cli.OkAsync("package", "create", "team/patched", data, "-m", "first", "--meta", "{\"k\": 1}", "--json"))!;

        var patched = JsonNode.Parse(await _cli.OkAsync("package", "patch", "team/patched", "--add", $"docs/c.txt={extra}", "--remove", "b.txt",
            "--rename", "a.txt=renamed/a.txt", "--entry-meta", "keep.txt={\"tag\": \"x\"}", "-m", "second", "--json"))!;
        var changes = patched["changes"]!;
        Assert.Equal(["docs/c.txt"], changes["added"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["b.txt"], changes["removed"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("renamed/a.txt", Assert.Single(changes["renamed"]!.AsArray())!["to"]!.GetValue<string>());
        Assert.Equal(["keep.txt"], changes["modified"]!.AsArray().Select(n => n!.GetValue<string>()));

        var revisions = JsonNode.Parse(await _cli.OkAsync("package", "revisions", "team/patched", "--json"))!.AsArray();
        Assert.Equal([patched["top_hash"]!.GetValue<string>(), first["top_hash"]!.GetValue<string>()], revisions.Select(r => r!["top_hash"]!.GetValue<string>()));
        Assert.Equal("second", revisions[0]!["message"]!.GetValue<string>());
        // Package metadata not named stays as it was.
        Assert.Equal(1, revisions[0]!["user_meta"]!["k"]!.GetValue<int>());

        var output = Path.Combine(_scratch, "patched-out");
        await _cli.OkAsync("package", "get", "team/patched", "--dest", output);
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(output, "renamed", "a.txt"), TestContext.Current.CancellationToken));
        Assert.Equal("gamma", await File.ReadAllTextAsync(Path.Combine(output, "docs", "c.txt"), TestContext.Current.CancellationToken));
        Assert.False(File.Exists(Path.Combine(output, "b.txt")));

        // Nothing to change is refused, and publishes nothing.
        var nothing = await _cli.RunAsync("package", "patch", "team/patched");
        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("Nothing to change", nothing.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, JsonNode.Parse(await _cli.OkAsync("package", "revisions", "team/patched", "--json"))!.AsArray().Count);
    }
}
