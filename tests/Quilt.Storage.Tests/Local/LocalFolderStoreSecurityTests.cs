using System.Text;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Storage.Tests.Local;

/// <summary>No bucket name or key reaches outside the root, and no symbolic link is ever followed.</summary>
public sealed class LocalFolderStoreSecurityTests : IDisposable
{
    private readonly LocalStoreFixture _f = new();
    private LocalFolderStore Store => _f.Store;
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _f.Dispose();

    public static TheoryData<string, string> BadKeys
    {
        get
        {
            var keys = BadKeysEverywhere;
            // Where a backslash separates folders (Windows) it could climb out; elsewhere it is a name character, as in S3.
            if (LocalPaths.BackslashIsSeparator)
            {
                keys.Add("a\\..\\..\\x", "backslash");
                keys.Add("..\\outside", "backslash");
            }
            return keys;
        }
    }

    private static TheoryData<string, string> BadKeysEverywhere => new()
    {
        { "../outside/x", "'..' segment" },
        { "a/../../outside/x", "'..' segment" },
        { "..", "'..' segment" },
        { "a/..", "'..' segment" },
        { "./x", "'.' segment" },
        { "a/./x", "'.' segment" },
        { "a//b", "empty segment" },
        { "/etc/passwd", "starts with '/'" },
        { "//x", "starts with '/'" },
        { "a\0b", "NUL" },
        { "a\nb", "control character U+000A" },
        { "a\u001fb", "control character U+001F" },
        { "a\u007fb", "control character U+007F" },
        { "", "empty" },
        { "a/\ud800b", "lone surrogate" },
        { new string('x', 256), "255 UTF-8 bytes" },
        { string.Join('/', Enumerable.Repeat(new string('y', 200), 6)), "1024 UTF-8 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task Every_operation_refuses_a_key_that_could_escape_or_cannot_be_a_file_name(string key, string rule)
    {
        await _f.PutTextAsync("data", "real.txt", "x");
        var obj = new ObjectRef("data", key);

        var put = await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", key, "evil"));
        Assert.Contains(rule, put.Message, StringComparison.Ordinal);
        Assert.Contains("not allowed", put.Message, StringComparison.Ordinal);
        if (!key.Any(char.IsControl))
            Assert.Contains($"'{key}'", put.Message, StringComparison.Ordinal); // names the bad key

        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.HeadAsync(obj, Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.OpenReadAsync(obj, cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.DeleteAsync(obj, Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(obj, "data", "copy", Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(new ObjectRef("data", "real.txt"), "data", key, Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.GetDownloadUrlAsync(obj, TimeSpan.FromMinutes(1), Token));
        Assert.Throws<InvalidObjectPathException>(() => Store.ToPhysicalKey(obj));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_f.Outside));
        Assert.Equal(["data/real.txt"], _f.FilesUnderRoot());
    }

    [Fact]
    public async Task Control_characters_are_shown_escaped_in_the_message()
    {
        var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "bad\nkey", "x"));
        Assert.Contains("'bad\\u000Akey'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_ending_with_a_slash_cannot_be_put_because_folder_markers_are_not_files_here()
    {
        var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "folder/", ""));
        Assert.Contains("'folder/'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ends with '/'", ex.Message, StringComparison.Ordinal);
        await _f.PutTextAsync("data", "x", "1");
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(new ObjectRef("data", "x"), "data", "folder/", Token));
        Assert.Equal(["data/x"], _f.FilesUnderRoot());
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("../outside")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("/abs")]
    [InlineData("UPPER")]
    [InlineData("ab")]
    [InlineData("-start")]
    [InlineData("end-")]
    [InlineData(".quilt-mcp")]
    [InlineData("a..b")]
    [InlineData("")]
    [InlineData("nul\0x")]
    public async Task Every_operation_refuses_a_bad_bucket_name(string bucket)
    {
        var obj = new ObjectRef(bucket, "k");

        var put = await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync(bucket, "k", "x"));
        Assert.Contains("Bucket name", put.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.HeadAsync(obj, Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.OpenReadAsync(obj, cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.DeleteAsync(obj, Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.ListAsync(new ListRequest(bucket), Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.IsVersionedAsync(bucket, Token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_f.Outside));
        Assert.Empty(_f.FilesUnderRoot());
    }

    [Fact]
    public async Task A_symlinked_bucket_is_refused_and_not_listed_even_when_it_points_inside()
    {
        await _f.PutTextAsync("real", "k.txt", "inside");
        File.WriteAllText(Path.Join(_f.Outside, "secret.txt"), "secret");
        Directory.CreateSymbolicLink(Path.Join(Store.Root, "escape"), _f.Outside);
        Directory.CreateSymbolicLink(Path.Join(Store.Root, "alias"), Path.Join(Store.Root, "real"));

        Assert.Equal(["real"], (await Store.ListBucketsAsync(Token)).Select(b => b.Name));
        foreach (var bucket in new[] { "escape", "alias" })
        {
            var key = bucket == "escape" ? "secret.txt" : "k.txt";
            var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.HeadAsync(new ObjectRef(bucket, key), Token));
            Assert.Contains("symbolic link", ex.Message, StringComparison.Ordinal);
            Assert.Contains($"'{bucket}'", ex.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.OpenReadAsync(new ObjectRef(bucket, key), cancellationToken: Token));
            await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.ListAsync(new ListRequest(bucket), Token));
            await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync(bucket, "planted.txt", "x"));
            await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.DeleteAsync(new ObjectRef(bucket, key), Token));
            await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(new ObjectRef("real", "k.txt"), bucket, "copied.txt", Token));
        }

        Assert.Equal(["secret.txt"], Directory.EnumerateFiles(_f.Outside).Select(Path.GetFileName));
        Assert.Equal("secret", File.ReadAllText(Path.Join(_f.Outside, "secret.txt")));
        Assert.Equal(["k.txt"], Directory.EnumerateFiles(Path.Join(Store.Root, "real")).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_symlinked_folder_inside_a_bucket_is_refused_wherever_it_points(bool pointsOutside)
    {
        await _f.PutTextAsync("data", "real/inner.txt", "inside");
        File.WriteAllText(Path.Join(_f.Outside, "inner.txt"), "outside");
        var target = pointsOutside ? _f.Outside : _f.PathOf("data", "real");
        Directory.CreateDirectory(_f.PathOf("data", "sub"));
        Directory.CreateSymbolicLink(_f.PathOf("data", "sub/link"), target);

        var obj = new ObjectRef("data", "sub/link/inner.txt");
        var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.HeadAsync(obj, Token));
        Assert.Contains("'sub/link' is a symbolic link", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sub/link/inner.txt", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.OpenReadAsync(obj, cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.GetDownloadUrlAsync(obj, TimeSpan.FromMinutes(1), Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(obj, "data", "stolen.txt", Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "sub/link/planted.txt", "x"));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "sub/link/inner.txt", "overwritten"));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(new ObjectRef("data", "real/inner.txt"), "data", "sub/link/inner.txt", Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.DeleteAsync(obj, Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.DeleteAsync(new ObjectRef("data", "sub/link"), Token));

        Assert.Equal("outside", File.ReadAllText(Path.Join(_f.Outside, "inner.txt")));
        Assert.Equal(["inner.txt"], Directory.EnumerateFiles(_f.Outside).Select(Path.GetFileName));
        Assert.Equal("inside", await _f.ReadTextAsync("data", "real/inner.txt"));
        Assert.Equal(["inner.txt"], Directory.EnumerateFiles(_f.PathOf("data", "real")).Select(Path.GetFileName));
        Assert.True(Directory.Exists(_f.PathOf("data", "sub/link")), "the link itself stays");

        var listing = await Store.ListAsync(new ListRequest("data"), Token);
        Assert.Equal(["real/inner.txt"], listing.Objects.Select(o => o.Key));
        Assert.Empty((await Store.ListAsync(new ListRequest("data", "sub/link/"), Token)).Objects);
        var folders = await Store.ListAsync(new ListRequest("data", Delimiter: "/"), Token);
        Assert.Equal(["real/"], folders.CommonPrefixes); // "sub/" holds only a link: no objects, so no folder
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_symlinked_file_inside_a_bucket_is_refused_wherever_it_points(bool pointsOutside)
    {
        await _f.PutTextAsync("data", "real.txt", "inside");
        var outsideFile = Path.Join(_f.Outside, "secret.txt");
        File.WriteAllText(outsideFile, "secret");
        File.CreateSymbolicLink(_f.PathOf("data", "link.txt"), pointsOutside ? outsideFile : _f.PathOf("data", "real.txt"));

        var obj = new ObjectRef("data", "link.txt");
        var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.HeadAsync(obj, Token));
        Assert.Contains("'link.txt' is a symbolic link", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.OpenReadAsync(obj, cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.CopyAsync(obj, "data", "stolen.txt", Token));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "link.txt", "overwrite through the link"));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.DeleteAsync(obj, Token));

        Assert.Equal("secret", File.ReadAllText(outsideFile));
        Assert.Equal("inside", await _f.ReadTextAsync("data", "real.txt"));
        Assert.NotNull(new FileInfo(_f.PathOf("data", "link.txt")).LinkTarget);
        Assert.Equal(["real.txt"], (await Store.ListAsync(new ListRequest("data"), Token)).Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task A_link_planted_on_the_way_while_a_put_streams_is_not_followed_when_it_lands()
    {
        Directory.CreateDirectory(_f.PathOf("data", ""));
        var gate = new TaskCompletionSource();
        var content = new GatedStream(Encoding.UTF8.GetBytes("first "), Encoding.UTF8.GetBytes("rest"), gate.Task);
        var put = Store.PutAsync(new PutRequest("data", "sub/deeper/k.txt"), content, cancellationToken: Token);
        await content.ReachedGate; // the key was checked and is streaming to a temp file

        Directory.CreateSymbolicLink(_f.PathOf("data", "sub"), _f.Outside);
        gate.SetResult();

        var ex = await Assert.ThrowsAsync<InvalidObjectPathException>(() => put);
        Assert.Contains("'sub' is a symbolic link", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_f.Outside)); // not even an empty folder
        Assert.Empty(_f.TempFiles());
    }

    [Fact]
    public async Task A_dangling_symlink_is_refused_and_a_put_does_not_create_its_target()
    {
        var target = Path.Join(_f.Outside, "created-through-link.txt");
        Directory.CreateDirectory(_f.PathOf("data", ""));
        File.CreateSymbolicLink(_f.PathOf("data", "dangling"), target);

        await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "dangling", "x"));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => Store.HeadAsync(new ObjectRef("data", "dangling"), Token));

        Assert.False(File.Exists(target));
    }

    [Fact]
    public async Task The_root_itself_may_be_a_link_because_the_user_chose_it()
    {
        using var temp = new TempDirectory();
        var real = temp.Combine("real-root");
        Directory.CreateDirectory(real);
        var link = temp.Combine("root-link");
        Directory.CreateSymbolicLink(link, real);
        var store = new LocalFolderStore(link);

        await store.PutAsync(new PutRequest("data", "k.txt"), new MemoryStream(Encoding.UTF8.GetBytes("x")), cancellationToken: Token);

        Assert.True(File.Exists(Path.Join(real, "data", "k.txt")));
        Assert.Equal(1, (await store.HeadAsync(new ObjectRef("data", "k.txt"), Token)).Size);
    }

    [Fact]
    public async Task Listing_prefixes_with_escapes_find_nothing_and_touch_nothing_outside()
    {
        await _f.PutTextAsync("data", "a/x", "1");
        File.WriteAllText(Path.Join(_f.Outside, "secret"), "s");
        Directory.CreateDirectory(Path.Join(Store.Root, "other"));
        File.WriteAllText(Path.Join(Store.Root, "other", "y"), "y");

        foreach (var prefix in new[] { "../", "../outside/", "../../", "a/../", "./", "a//", "/", "a\\", "../other/" })
        {
            var listing = await Store.ListAsync(new ListRequest("data", prefix), Token);
            Assert.Empty(listing.Objects);
            Assert.Empty(listing.CommonPrefixes);
            var folded = await Store.ListAsync(new ListRequest("data", prefix, "/"), Token);
            Assert.Empty(folded.Objects);
            Assert.Empty(folded.CommonPrefixes);
        }
    }

    [Fact]
    public async Task Files_whose_names_no_key_can_have_are_not_listed()
    {
        await _f.PutTextAsync("data", "ok.txt", "1");
        File.WriteAllText(_f.PathOf("data", "new\nline"), "x");

        var listing = await Store.ListAsync(new ListRequest("data"), Token);

        Assert.Equal(["ok.txt"], listing.Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task A_backslash_is_a_name_character_where_it_does_not_separate_folders()
    {
        Assert.SkipWhen(LocalPaths.BackslashIsSeparator, "On Windows a backslash separates folders and is refused.");
        // As in S3 and in quilt3's logical keys: 'back\slash.txt' is one file, not a folder 'back'.
        await _f.PutTextAsync("data", "dir/back\\slash.txt", "x");

        Assert.Equal(["data/dir/back\\slash.txt"], _f.FilesUnderRoot());
        var listing = await Store.ListAsync(new ListRequest("data"), Token);
        Assert.Equal(["dir/back\\slash.txt"], listing.Objects.Select(o => o.Key));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => _f.PutTextAsync("data", "..\\x/../y", "evil"));
    }
}
