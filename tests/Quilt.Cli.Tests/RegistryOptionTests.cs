namespace Quilt.Cli.Tests;

/// <summary>
/// --registry-url names a Quilt registry server and --registry-bucket the bucket of packages, on serve and the other
/// commands alike; the old --registry keeps working with a one-line note saying which to use.
/// </summary>
public sealed class RegistryOptionTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "quilt-cli-tests-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly CliRunner _cli;

    public RegistryOptionTests()
    {
        Directory.CreateDirectory(Path.Combine(_scratch, "root", "local"));
        _cli = new CliRunner(Path.Combine(_scratch, "root"));
        _cli.Environment["QUILT_REGISTRY_TOKEN"] = "";
        _cli.Environment["QUILT_REGISTRY_URL"] = "";
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Serve_reads_the_old_registry_url_as_registry_url_with_a_note()
    {
        var result = await _cli.RunAsync("serve", "--registry", "https://registry.example.com");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("quilt-mcp: note: --registry is deprecated: use --registry-url https://registry.example.com.", result.Stderr, StringComparison.Ordinal);
        // Registry mode was chosen: it asks for the token.
        Assert.Contains("QUILT_REGISTRY_TOKEN", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_registry_url_chooses_registry_mode_without_a_note()
    {
        var result = await _cli.RunAsync("serve", "--registry-url", "https://registry.example.com");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("QUILT_REGISTRY_TOKEN", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("deprecated", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Package_commands_take_registry_bucket_and_the_old_name_with_a_note()
    {
        var current = await _cli.RunAsync("package", "list", "--registry-bucket", "local");
        Assert.True(current.ExitCode == 0, current.Stderr);
        Assert.DoesNotContain("deprecated", current.Stderr, StringComparison.Ordinal);

        var old = await _cli.RunAsync("package", "list", "--registry", "local");
        Assert.True(old.ExitCode == 0, old.Stderr);
        Assert.Contains("note: --registry is deprecated: use --registry-bucket", old.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Object_commands_take_the_registry_url_too()
    {
        // No token: registry mode was chosen, and it says what to set instead of reading the local folder.
        var result = await _cli.RunAsync("object", "ls", "--registry-url", "https://registry.example.com");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("QUILT_REGISTRY_TOKEN", result.Stderr, StringComparison.Ordinal);
    }
}
