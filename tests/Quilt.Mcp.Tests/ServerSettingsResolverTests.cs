using Quilt.Mcp.Configuration;

namespace Quilt.Mcp.Tests;

/// <summary>Options and environment variables become settings, or a list of errors that say what to fix.</summary>
public sealed class ServerSettingsResolverTests : IDisposable
{
    private readonly TempFolder _root = new();

    private static ResolvedSettings Resolve(ServeInput input, params (string Name, string Value)[] env)
    {
        var variables = env.ToDictionary(e => e.Name, e => e.Value);
        return ServerSettingsResolver.Resolve(input, name => variables.GetValueOrDefault(name));
    }

    [Fact]
    public void Defaults_are_local_storage_stdio_read_write_and_every_bucket()
    {
        var resolved = Resolve(new ServeInput(), ("HOME", "/home/ana"));
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        var settings = resolved.Settings!;
        Assert.Equal(StorageKind.Local, settings.Storage.Kind);
        Assert.Equal("/home/ana/.local/share/quilt-mcp", settings.Storage.Root);
        Assert.True(settings.Storage.RootIsDefault);
        Assert.Empty(settings.AllowedBuckets);
        Assert.False(settings.ReadOnly);
        Assert.Null(settings.Http);
        Assert.Equal(ServerSettings.DefaultMaxInlineBytes, settings.MaxInlineBytes);
    }

    [Fact]
    public void Xdg_data_home_moves_the_default_root()
    {
        var resolved = Resolve(new ServeInput(), ("HOME", "/home/ana"), ("XDG_DATA_HOME", "/data/xdg"));
        Assert.Equal("/data/xdg/quilt-mcp", resolved.Settings!.Storage.Root);
    }

    [Fact]
    public void Environment_variables_configure_everything_and_options_win()
    {
        var resolved = Resolve(
            new ServeInput { Buckets = ["from-option"], Port = 9001 },
            ("QUILT_MCP_STORAGE", "s3"), ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480"), ("QUILT_MCP_REGION", "us-west-2"),
            ("QUILT_MCP_PATH_STYLE", "yes"), ("QUILT_MCP_BUCKETS", "env-a, env-b"), ("QUILT_MCP_READ_ONLY", "1"),
            ("QUILT_MCP_MAX_INLINE_BYTES", "2MiB"), ("QUILT_MCP_MAX_TEXT_BYTES", "64KB"), ("QUILT_MCP_CATALOG", "https://catalog.example.com/"),
            ("QUILT_MCP_HTTP", "true"));
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        var s = resolved.Settings!;
        Assert.Equal(StorageKind.S3, s.Storage.Kind);
        Assert.Equal(new Uri("http://127.0.0.1:7480"), s.Storage.Endpoint);
        Assert.Equal("us-west-2", s.Storage.Region);
        Assert.True(s.Storage.ForcePathStyle);
        Assert.Equal(["from-option"], s.AllowedBuckets);
        Assert.True(s.ReadOnly);
        Assert.Equal(2 * 1024 * 1024, s.MaxInlineBytes);
        Assert.Equal(64_000, s.MaxTextBytes);
        Assert.Equal("catalog.example.com", s.CatalogHost);
        Assert.Equal(["http://127.0.0.1:9001"], s.Http!.Urls);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_source_and_a_fix()
    {
        var resolved = Resolve(
            new ServeInput { Storage = "ftp", Buckets = ["Not_A_Bucket"], MaxInlineBytes = "lots", Http = true, Urls = ["http://0.0.0.0:8080"] },
            ("QUILT_MCP_READ_ONLY", "maybe"));
        Assert.False(resolved.IsValid);
        Assert.Null(resolved.Settings);
        var all = string.Join("\n", resolved.Errors);
        Assert.Contains("Unknown storage 'ftp' (--storage). Valid values are: local, s3.", all, StringComparison.Ordinal);
        Assert.Contains("--bucket: 'Not_A_Bucket' is not a valid bucket name", all, StringComparison.Ordinal);
        Assert.Contains("--max-inline-bytes 'lots' is not a size", all, StringComparison.Ordinal);
        Assert.Contains("QUILT_MCP_READ_ONLY='maybe' is not a yes/no value", all, StringComparison.Ordinal);
        Assert.Contains("listens beyond this machine", all, StringComparison.Ordinal);
        Assert.Contains("--allow-remote", all, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", false, false)]
    [InlineData("http://*:8080", false, false)]
    [InlineData("http://192.168.1.5:8080", false, false)]
    [InlineData("http://127.0.0.1:8080", false, true)]
    [InlineData("http://localhost:8080", false, true)]
    [InlineData("http://[::1]:8080", false, true)]
    [InlineData("http://0.0.0.0:8080", true, true)]
    [InlineData("https://127.0.0.1:8080", false, false)]
    [InlineData("http://127.0.0.1:8080/path", false, false)]
    public void Http_binds_to_loopback_unless_remote_is_allowed(string url, bool allowRemote, bool valid)
    {
        var resolved = Resolve(new ServeInput { Http = true, Urls = [url], AllowRemote = allowRemote }, ("HOME", "/home/ana"));
        Assert.Equal(valid, resolved.IsValid);
    }

    [Fact]
    public void Options_for_the_other_storage_or_transport_are_mistakes()
    {
        var local = Resolve(new ServeInput { Endpoint = "http://127.0.0.1:9000", Port = 8000 }, ("HOME", "/home/ana"));
        Assert.Contains(local.Errors, e => e.StartsWith("--endpoint applies to S3 storage only", StringComparison.Ordinal));
        Assert.Contains(local.Errors, e => e.Contains("apply to the HTTP transport only", StringComparison.Ordinal));

        // AWS variables in the environment are common and harmless for local storage.
        var env = Resolve(new ServeInput(), ("HOME", "/home/ana"), ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"));
        Assert.True(env.IsValid);

        var s3 = Resolve(new ServeInput { Storage = "s3", Root = "/tmp", Endpoint = "ftp://host" });
        Assert.Contains(s3.Errors, e => e.StartsWith("--root applies to local storage only", StringComparison.Ordinal));
        Assert.Contains(s3.Errors, e => e.Contains("is not an http:// or https:// URL", StringComparison.Ordinal));
    }

    [Fact]
    public void An_explicit_root_must_exist_but_the_default_is_created()
    {
        var missing = Path.Join(_root.Path, "missing");
        var resolved = Resolve(new ServeInput { Root = missing });
        Assert.Contains(resolved.Errors, e => e.Contains("does not exist", StringComparison.Ordinal) && e.Contains("mkdir -p", StringComparison.Ordinal));
        Assert.True(Resolve(new ServeInput { Root = _root.Path }).IsValid);
    }

    [Theory]
    [InlineData("65536", 65536)]
    [InlineData("512KiB", 512 * 1024)]
    [InlineData("4MiB", 4 * 1024 * 1024)]
    [InlineData("2MB", 2_000_000)]
    [InlineData("1.5M", 1572864)]
    [InlineData("1 k", 1024)]
    public void Sizes_take_units(string text, long bytes)
    {
        Assert.True(ServerSettingsResolver.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("12XB")]
    [InlineData("0.3")]
    public void Bad_sizes_are_refused(string text) => Assert.False(ServerSettingsResolver.TryParseSize(text, out var n) && n > 0);

    [Fact]
    public void Sizes_over_the_cap_are_refused()
    {
        var resolved = Resolve(new ServeInput { MaxInlineBytes = "1GiB" }, ("HOME", "/home/ana"));
        Assert.Contains(resolved.Errors, e => e.Contains("over the most this server allows", StringComparison.Ordinal));
    }

    public void Dispose() => _root.Dispose();
}
