using System.Text;
using Quilt.Core;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// A local folder taken as quilt3's set_dir takes it: <c>.quiltignore</c> rules (Python fnmatch on absolute paths) and
/// symbolic links (followed inside the folder, refused when they lead out of it or nowhere).
/// </summary>
public sealed class LocalFolderSourceTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-folder-tests");
    private readonly LocalFolderStore _store;
    private readonly PackageRegistry _registry;
    private readonly PackageService _service;

    public LocalFolderSourceTests()
    {
        _store = new LocalFolderStore(Directory.CreateDirectory(_scratch.Combine("root")).FullName);
        _registry = new PackageRegistry(_store, "reg");
        _service = new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: true));
    }

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Write(string folder, string relative, string content = "x")
    {
        var path = Path.Combine(folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    // The .quiltignore of the main case, the files it is tried on, and what quilt3 keeps. quilt3 (util.quiltignore_filter)
    // prefixes each rule with "*/" and fnmatches the ABSOLUTE path, '*' crossing '/':
    //   *.tmp          -> */*.tmp: any file ending .tmp at any depth
    //   logs/          -> */logs/: a folder named logs (path + "/" matches) at any depth, not a FILE named logs
    //   build          -> */build: a folder or a file named build at any depth
    //   ?.txt          -> */?.txt: a one-character name before .txt
    //   [ab].csv       -> a.csv and b.csv only
    //   sub/deep/x.bin -> */sub/deep/x.bin: that path below any folder, so other/sub/deep/x.bin too
    //   #notes.md      -> a file literally named '#notes.md' (no comment syntax)
    //   !important.txt -> a file literally named '!important.txt' (no negation syntax)
    private const string Rules = "*.tmp\nlogs/\nbuild\n?.txt\n[ab].csv\nsub/deep/x.bin\n#notes.md\n!important.txt\n\n";

    private static readonly string[] Ignored =
    [
        "x.tmp", "sub/y.tmp", "logs/app.log", "sub/logs/deep.log", "build/out.o", "src/build", "a.txt", "sub/c.txt",
        "a.csv", "b.csv", "sub/deep/x.bin", "other/sub/deep/x.bin", "#notes.md", "!important.txt",
    ];

    private static readonly string[] Kept =
    [
        ".quiltignore", "keep.txt", "x.tmp.txt", "logs2/x.log", "notes/logs", "builds/x", "ab.txt", "c.csv", "ab.csv",
        "deep/x.bin", "sub/deep/y.bin", "notes.md", "important.txt",
    ];

    private string IgnoreFolder(string name, string rules)
    {
        var folder = Directory.CreateDirectory(_scratch.Combine(name)).FullName;
        foreach (var key in Ignored.Concat(Kept).Where(k => k != ".quiltignore"))
            Write(folder, key, "data of " + key);
        File.WriteAllBytes(Path.Combine(folder, ".quiltignore"), Encoding.UTF8.GetBytes(rules));
        return folder;
    }

    private async Task<PackageWriteResult> CreateAsync(string name, IReadOnlyList<EntrySource> sources) =>
        await _service.CreateAsync(_registry, new CreatePackageRequest(name, sources) { Message = "m" }, null, Ct);

    [Fact]
    public async Task A_quiltignore_leaves_out_what_quilt3s_rules_name_and_the_top_hash_is_that_of_the_kept_files_alone()
    {
        var folder = IgnoreFolder("with-ignore", Rules);
        var sources = EntrySources.FromLocalPath(folder);
        Assert.Equal(Kept.Order(StringComparer.Ordinal), sources.Select(s => s.LogicalKey).Order(StringComparer.Ordinal));

        // The kept files alone (the .quiltignore among them) give the same revision.
        var filtered = await CreateAsync("team/filtered", sources);
        var reference = await CreateAsync("team/reference", [.. Kept.Select(k => new LocalFileSource(k, Path.Combine(folder, k)))]);
        Assert.Equal(reference.Revision.TopHash, filtered.Revision.TopHash);
    }

    [Fact]
    public void A_crlf_quiltignore_matches_as_its_lf_twin_since_python_reads_it_with_universal_newlines()
    {
        // quilt3 reads the file with Path.read_text('utf-8'): text mode, newline=None, so "\r\n" (and a lone "\r") arrive
        // as "\n" before the split on "\n"; no rule keeps a "\r".
        var lf = EntrySources.FromLocalPath(IgnoreFolder("lf", Rules)).Select(s => s.LogicalKey).Order(StringComparer.Ordinal);
        var crlf = EntrySources.FromLocalPath(IgnoreFolder("crlf", Rules.Replace("\n", "\r\n", StringComparison.Ordinal))).Select(s => s.LogicalKey).Order(StringComparer.Ordinal);
        var cr = EntrySources.FromLocalPath(IgnoreFolder("cr", Rules.Replace('\n', '\r'))).Select(s => s.LogicalKey).Order(StringComparer.Ordinal);
        Assert.Equal(Kept.Order(StringComparer.Ordinal), lf);
        Assert.Equal(lf, crlf);
        Assert.Equal(lf, cr);
    }

    [Fact]
    public void A_rule_can_name_the_folder_itself_because_quilt3_matches_absolute_paths()
    {
        // "proj-root/a*" becomes "*/proj-root/a*", and every path below the folder starts with ".../proj-root/", so it
        // leaves out a.txt and everything under archive/ (quilt3 does the same; a gitignore would not look above the root).
        var folder = Directory.CreateDirectory(_scratch.Combine("proj-root")).FullName;
        Write(folder, "a.txt");
        Write(folder, "archive/old.csv");
        Write(folder, "b.txt");
        Write(folder, ".quiltignore", "proj-root/a*\n");
        Assert.Equal([".quiltignore", "b.txt"], EntrySources.FromLocalPath(folder).Select(s => s.LogicalKey).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Only_the_folders_own_quiltignore_counts_and_it_applies_under_a_logical_prefix()
    {
        var folder = Directory.CreateDirectory(_scratch.Combine("nested")).FullName;
        Write(folder, ".quiltignore", "*.log\n");
        Write(folder, "run.log");
        Write(folder, "sub/.quiltignore", "*\n"); // quilt3 reads no nested .quiltignore: this one is packaged, not obeyed
        Write(folder, "sub/data.csv");
        Assert.Equal(["in/.quiltignore", "in/sub/.quiltignore", "in/sub/data.csv"],
            EntrySources.FromLocalPath(folder, "in").Select(s => s.LogicalKey).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_quiltignore_that_is_not_utf8_is_refused_as_quilt3_cannot_read_it_either()
    {
        var folder = Directory.CreateDirectory(_scratch.Combine("latin1")).FullName;
        File.WriteAllBytes(Path.Combine(folder, ".quiltignore"), [0x63, 0x61, 0x66, 0xE9, 0x0A]); // "café\n" in Latin-1
        var e = Assert.Throws<PackageException>(() => EntrySources.FromLocalPath(folder));
        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_keep_their_spaces_and_a_bom_as_pythons_utf8_read_text_does()
    {
        // Python's 'utf-8' codec (not 'utf-8-sig') keeps a BOM as U+FEFF at the start of the first rule, and quilt3
        // strips nothing: "\uFEFF*.tmp" matches no path below the folder and "*.log " only a name ending in a space.
        var folder = Directory.CreateDirectory(_scratch.Combine("bom")).FullName;
        Write(folder, "a.tmp");
        Write(folder, "b.log");
        Write(folder, "c.log ");
        Write(folder, "d.csv");
        File.WriteAllBytes(Path.Combine(folder, ".quiltignore"), [0xEF, 0xBB, 0xBF, .. "*.tmp\n*.log \n*.csv\n"u8]);
        Assert.Equal([".quiltignore", "a.tmp", "b.log"], EntrySources.FromLocalPath(folder).Select(s => s.LogicalKey).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_link_to_a_file_inside_the_folder_is_followed_and_its_physical_key_is_the_target()
    {
        var folder = Directory.CreateDirectory(_scratch.Combine("linked")).FullName;
        var target = Write(folder, "data/real.csv", "a,b\n1,2\n");
        File.CreateSymbolicLink(Path.Combine(folder, "alias.csv"), Path.Combine("data", "real.csv"));
        Directory.CreateDirectory(Path.Combine(folder, "views"));
        File.CreateSymbolicLink(Path.Combine(folder, "views", "same.csv"), Path.Combine("..", "alias.csv")); // a link to a link

        var sources = EntrySources.FromLocalPath(folder);
        Assert.Equal(["alias.csv", "data/real.csv", "views/same.csv"], sources.Select(s => s.LogicalKey).Order(StringComparer.Ordinal));

        // Referenced in place (a local registry), the entry points at the resolved target, as quilt3's
        // PhysicalKey.from_path (os.path.realpath) records it, and has the target's size and hash.
        var result = await _service.CreateAsync(_registry, new CreatePackageRequest("team/linked", sources) { CopyData = false }, null, Ct);
        var byKey = result.Manifest.Entries.ToDictionary(e => e.LogicalKey);
        Assert.Equal(PhysicalKey.File(target).ToString(), byKey["alias.csv"].PhysicalKeys.Single());
        Assert.Equal(PhysicalKey.File(target).ToString(), byKey["views/same.csv"].PhysicalKeys.Single());
        Assert.Equal(byKey["data/real.csv"].Hash, byKey["alias.csv"].Hash);
        Assert.Equal(8, byKey["alias.csv"].Size);

        // The top hash is that of the folder with a copy of the file where each link is.
        var copies = Directory.CreateDirectory(_scratch.Combine("copies")).FullName;
        foreach (var key in new[] { "alias.csv", "data/real.csv", "views/same.csv" })
            Write(copies, key, "a,b\n1,2\n");
        var reference = await _service.CreateAsync(_registry, new CreatePackageRequest("team/copies", EntrySources.FromLocalPath(copies)), null, Ct);
        Assert.Equal(reference.Revision.TopHash, result.Revision.TopHash);
    }

    [Fact]
    public void Links_that_lead_out_of_the_folder_nowhere_or_round_are_refused_naming_each_and_what_it_leads_to()
    {
        var outside = Write(_scratch.Path, "home/.ssh/id_ed25519", "secret");
        var folder = Directory.CreateDirectory(_scratch.Combine("leaky")).FullName;
        Write(folder, "ok.txt");
        File.CreateSymbolicLink(Path.Combine(folder, "key.pem"), outside);
        File.CreateSymbolicLink(Path.Combine(folder, "gone.txt"), "missing.txt");
        File.CreateSymbolicLink(Path.Combine(folder, "loop-a"), "loop-b");
        File.CreateSymbolicLink(Path.Combine(folder, "loop-b"), "loop-a");
        Directory.CreateSymbolicLink(Path.Combine(folder, "home"), Path.GetDirectoryName(outside)!);

        var e = Assert.Throws<SymbolicLinkRefusedException>(() => EntrySources.FromLocalPath(folder));
        Assert.Equal(5, e.Links.Count);
        Assert.Contains($"'key.pem' -> '{outside}' (a file outside the folder)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'home' -> '{Path.GetDirectoryName(outside)}' (a folder outside the folder)", e.Message, StringComparison.Ordinal);
        Assert.Contains("'gone.txt' -> 'missing.txt' (it leads to nothing", e.Message, StringComparison.Ordinal);
        Assert.Contains("'loop-a' -> 'loop-b' (it leads round in a loop", e.Message, StringComparison.Ordinal);
        Assert.Contains("KEY=/path/to/target", e.Message, StringComparison.Ordinal);
        Assert.Contains(".quiltignore", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_link_named_in_quiltignore_is_left_out_rather_than_refused()
    {
        var outside = Write(_scratch.Path, "elsewhere/secret.txt");
        var folder = Directory.CreateDirectory(_scratch.Combine("ignored-link")).FullName;
        Write(folder, "ok.txt");
        File.CreateSymbolicLink(Path.Combine(folder, "alias.txt"), "ok.txt"); // inside: followed
        File.CreateSymbolicLink(Path.Combine(folder, "secret.txt"), outside);
        File.CreateSymbolicLink(Path.Combine(folder, "dangling"), "nothing-here");
        Directory.CreateSymbolicLink(Path.Combine(folder, "mnt"), Path.GetDirectoryName(outside)!);
        // "dangling/" and "mnt/" match only what quilt3 does not take for a file: a dangling link and a link to a folder.
        Write(folder, ".quiltignore", "secret.txt\ndangling/\nmnt/\n");
        Assert.Equal([".quiltignore", "alias.txt", "ok.txt"], EntrySources.FromLocalPath(folder).Select(s => s.LogicalKey).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_link_to_a_folder_inside_is_not_descended_into_as_pythons_rglob_does_not()
    {
        // pathlib's rglob('*') follows no symlink when expanding '**' (Python 3.9-3.12; 3.13's recurse_symlinks=False),
        // and the link itself is no file, so quilt3 packages the folder's files once, under their real path only.
        var folder = Directory.CreateDirectory(_scratch.Combine("dir-link")).FullName;
        Write(folder, "data/a.csv");
        Directory.CreateSymbolicLink(Path.Combine(folder, "current"), "data");
        Directory.CreateSymbolicLink(Path.Combine(folder, "data", "self"), ".."); // a loop through a folder link, not walked
        Assert.Equal(["data/a.csv"], EntrySources.FromLocalPath(folder).Select(s => s.LogicalKey));
    }

    [Fact]
    public void A_folder_given_through_a_link_is_walked_at_its_real_path()
    {
        var real = Directory.CreateDirectory(_scratch.Combine("real-folder")).FullName;
        var file = Write(real, "f.txt");
        var link = _scratch.Combine("folder-link");
        Directory.CreateSymbolicLink(link, real);
        var source = Assert.Single(EntrySources.FromLocalPath(link));
        Assert.Equal("f.txt", source.LogicalKey);
        Assert.Equal(file, source.Path);
    }
}
