namespace Quilt.Cli.Tests;

/// <summary>`object …` commands run the object tools' operations: the same refusals, in the same words.</summary>
public sealed class ObjectCommandTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "quilt-cli-objects-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly CliRunner _cli;

    public ObjectCommandTests()
    {
        Directory.CreateDirectory(_scratch);
        _cli = new CliRunner(Path.Combine(_scratch, "root"));
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Object_put_refuses_what_bucket_objects_put_refuses_with_its_messages_and_writes_nothing()
    {
        var file = Path.Combine(_scratch, "data.txt");
        await File.WriteAllTextAsync(file, "first", TestContext.Current.CancellationToken);
        await _cli.OkAsync("object", "put", file, "s3://bucket-a/kept.txt");
        await File.WriteAllTextAsync(file, "second", TestContext.Current.CancellationToken);

        var exists = await _cli.RunAsync("object", "put", file, "s3://bucket-a/kept.txt", "--no-overwrite");
        Assert.Equal(1, exists.ExitCode);
        Assert.Equal("error: s3://bucket-a/kept.txt already exists and overwrite is false. Nothing was written. "
            + "Pass overwrite=true to replace it, or choose another key.", exists.Stderr.Trim());

        var doubled = await _cli.RunAsync("object", "put", file, "s3://bucket-a/a//b.txt");
        Assert.Equal(1, doubled.ExitCode);
        Assert.StartsWith("error: uri 's3://bucket-a/a//b.txt': the key 'a//b.txt' has an empty path segment", doubled.Stderr, StringComparison.Ordinal);

        var badType = await _cli.RunAsync("object", "put", file, "s3://bucket-a/typed.txt", "--content-type", "not a type");
        Assert.Equal(1, badType.ExitCode);
        Assert.StartsWith("error: objects[0].contentType:", badType.Stderr, StringComparison.Ordinal);

        Assert.Equal("first", await _cli.OkAsync("object", "cat", "s3://bucket-a/kept.txt"));
        Assert.Equal(["kept.txt"], Directory.GetFiles(Path.Combine(_cli.Root, "bucket-a")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Object_get_refuses_a_key_with_the_tools_message_and_writes_no_file()
    {
        var dest = Path.Combine(_scratch, "out.txt");
        var escape = await _cli.RunAsync("object", "get", "s3://bucket-a/x/../../etc/passwd", dest);
        Assert.Equal(1, escape.ExitCode);
        Assert.StartsWith("error: uri 's3://bucket-a/x/../../etc/passwd': the key 'x/../../etc/passwd' has a '..' segment", escape.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(dest));
    }

    [Fact]
    public async Task Object_cp_rm_and_link_do_what_the_copy_delete_and_link_tools_do()
    {
        var file = Path.Combine(_scratch, "data.txt");
        await File.WriteAllTextAsync(file, "payload", TestContext.Current.CancellationToken);
        await _cli.OkAsync("object", "put", file, "s3://bucket-a/in/data.txt");

        // cp into a folder keeps the file name; --no-overwrite refuses an existing destination with the tool's words.
        Assert.Contains("s3://bucket-a/out/data.txt", await _cli.OkAsync("object", "cp", "s3://bucket-a/in/data.txt", "s3://bucket-a/out/"), StringComparison.Ordinal);
        Assert.Equal("payload", await _cli.OkAsync("object", "cat", "s3://bucket-a/out/data.txt"));
        var exists = await _cli.RunAsync("object", "cp", "s3://bucket-a/in/data.txt", "s3://bucket-a/out/data.txt", "--no-overwrite");
        Assert.Equal(1, exists.ExitCode);
        Assert.Contains("already exists and overwrite is false", exists.Stderr, StringComparison.Ordinal);

        // link on local storage: a file:// URL that opens the bytes, and a note that it cannot be shared.
        var link = await _cli.RunAsync("object", "link", "s3://bucket-a/out/data.txt");
        Assert.Equal(0, link.ExitCode);
        Assert.Equal("payload", await File.ReadAllTextAsync(new Uri(link.Stdout.Trim()).LocalPath, TestContext.Current.CancellationToken));
        Assert.Contains("cannot be shared", link.Stderr, StringComparison.Ordinal);

        // rm deletes; again it is not an error, and says there was nothing.
        Assert.Equal("deleted s3://bucket-a/out/data.txt", (await _cli.OkAsync("object", "rm", "s3://bucket-a/out/data.txt")).Trim());
        Assert.Contains("was not there", await _cli.OkAsync("object", "rm", "s3://bucket-a/out/data.txt"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cli.Root, "bucket-a", "out", "data.txt")));
        var escape = await _cli.RunAsync("object", "rm", "s3://bucket-a/in/../../x");
        Assert.Equal(1, escape.ExitCode);
        Assert.Contains("'..' segment", escape.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_cli.Root, "bucket-a", "in", "data.txt")));
    }
}
