using System.Text.Json;
using Quilt.Operations.Models;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>The package write tools over the local folder store: all of <see cref="PackageWriteToolsTests"/> and local files and folders as sources.</summary>
public sealed class LocalPackageWriteToolsTests : PackageWriteToolsTests
{
    private readonly LocalToolTestStore _local;

    public LocalPackageWriteToolsTests() : this(new LocalToolTestStore("pkg-bucket"))
    {
    }

    private LocalPackageWriteToolsTests(LocalToolTestStore local) : base(local) => _local = local;

    [Fact]
    public async Task Local_files_and_folders_are_copied_in_and_a_cancelled_create_publishes_nothing()
    {
        var folder = Directory.CreateDirectory(Path.Join(_local.Root, "..", Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Join(folder, "a.txt"), "A", TestContext.Current.CancellationToken);
            Directory.CreateDirectory(Path.Join(folder, "sub"));
            await File.WriteAllTextAsync(Path.Join(folder, "sub", "b.txt"), "B", TestContext.Current.CancellationToken);
            var result = await Mcp.CallOkAsync<PackageRevisionResult>("package_create",
                JsonSerializer.Serialize(new { package = "team/local", sources = new[] { new { uri = folder, logicalKey = "in" } }, copy = false }));
            Assert.Equal(2, result.Entries);
            // Copied even with copy false: a server must not point manifests at files outside its storage.
            File.Delete(Path.Join(folder, "a.txt"));
            var text = await Mcp.CallAsync("package_entry_text", """{"package": "team/local", "path": "in/a.txt", "format": "text"}""");
            Assert.Contains("A", McpHarness.Text(text), StringComparison.Ordinal);

            var big = Path.Join(folder, "big.bin");
            await File.WriteAllBytesAsync(big, TestData.Bytes(64 * 1024 * 1024), TestContext.Current.CancellationToken);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            var progress = new ProgressLog();
            progress.Reported += _ => cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Mcp.CallCancellableAsync("package_create",
                JsonSerializer.Serialize(new { package = "team/cancelled", sources = new[] { new { uri = big } } }), progress, cts.Token));
            // Give the server a moment to observe the cancellation, then check nothing was published.
            await Task.Delay(500, TestContext.Current.CancellationToken);
            var error = await Mcp.CallErrorAsync("package_browse", """{"package": "team/cancelled"}""");
            Assert.Contains("No package", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_local_folder_is_taken_as_quilt3_takes_it_quiltignore_obeyed_inner_links_followed_outer_links_refused()
    {
        using var outside = new TempDirectory();
        using var scratch = new TempDirectory();
        var folder = Directory.CreateDirectory(Path.Join(scratch.Path, "folder")).FullName;
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(Path.Join(folder, "logs"));
        Directory.CreateDirectory(Path.Join(folder, "data"));
        await File.WriteAllTextAsync(Path.Join(folder, "data", "a.csv"), "x,y\n1,2\n", ct);
        await File.WriteAllTextAsync(Path.Join(folder, "scratch.tmp"), "temp", ct);
        await File.WriteAllTextAsync(Path.Join(folder, "logs", "run.log"), "log", ct);
        await File.WriteAllTextAsync(Path.Join(folder, ".quiltignore"), "*.tmp\nlogs/\n", ct);
        File.CreateSymbolicLink(Path.Join(folder, "latest.csv"), Path.Join("data", "a.csv"));

        // quilt3's set_dir: *.tmp and logs/ left out, the link followed (its entry has the target's bytes).
        var created = await Mcp.CallOkAsync<PackageRevisionResult>("package_create",
            JsonSerializer.Serialize(new { package = "team/folder", sources = new[] { new { uri = folder } } }));
        var browse = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/folder", "path": ""}""");
        Assert.Equal([".quiltignore", "latest.csv"], browse.Files.Select(f => f.Name));
        Assert.Equal(["data/"], browse.Folders.Select(f => f.Name));
        var text = await Mcp.CallAsync("package_entry_text", """{"package": "team/folder", "path": "latest.csv", "format": "text"}""");
        Assert.Contains("1,2", McpHarness.Text(text), StringComparison.Ordinal);

        // The same top hash as the kept files given one by one.
        var reference = await Mcp.CallOkAsync<PackageRevisionResult>("package_create", JsonSerializer.Serialize(new
        {
            package = "team/reference",
            sources = new[]
            {
                new { uri = Path.Join(folder, ".quiltignore"), logicalKey = ".quiltignore" },
                new { uri = Path.Join(folder, "data", "a.csv"), logicalKey = "data/a.csv" },
                new { uri = Path.Join(folder, "data", "a.csv"), logicalKey = "latest.csv" },
            },
        }));
        Assert.Equal(reference.TopHash, created.TopHash);

        // A link out of the folder: the patch is refused naming the link and its target, and nothing is published.
        var secret = Path.Join(outside.Path, "id_ed25519");
        await File.WriteAllTextAsync(secret, "secret", ct);
        var more = Directory.CreateDirectory(Path.Join(scratch.Path, "more")).FullName;
        await File.WriteAllTextAsync(Path.Join(more, "ok.txt"), "ok", ct);
        File.CreateSymbolicLink(Path.Join(more, "key"), secret);
        var error = await Mcp.CallErrorAsync("package_patch",
            JsonSerializer.Serialize(new { package = "team/folder", add = new[] { new { uri = more, logicalKey = "more" } } }));
        Assert.Contains($"'more/key' -> '{secret}' (a file outside the folder)", error, StringComparison.Ordinal);
        Assert.Contains("logicalKey", error, StringComparison.Ordinal);
        var after = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/folder"}""");
        Assert.Equal(created.TopHash, after.TopHash);
    }
}
