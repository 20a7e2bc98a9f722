using Quilt.Mcp.Configuration;
using Quilt.Storage;

namespace Quilt.Mcp.Tests.Configuration;

/// <summary>Options and environment variables become settings, or a list of errors that say what to fix.</summary>
public sealed class ServerSettingsResolverTests
{
    private static readonly StorageSettings Storage = new() { Kind = StorageKind.S3, EndpointUrl = "http://127.0.0.1:7480" };

    // The storage options every test starts from (S3 at the test endpoint), plus whatever the input adds.
    private static ResolvedSettings Resolve(ServeInput input, params (string Name, string Value)[] env)
    {
        var variables = env.ToDictionary(e => e.Name, e => e.Value);
        var connection = input.Connection with { Storage = input.Connection.Storage ?? "s3", Endpoint = input.Connection.Endpoint ?? Storage.EndpointUrl };
        return ServerSettingsResolver.Resolve(input with { Connection = connection }, name => variables.GetValueOrDefault(name));
    }

    [Fact]
    public void Defaults_are_stdio_read_write_every_bucket_and_the_given_storage()
    {
        var resolved = Resolve(new ServeInput());
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        var settings = resolved.Settings!;
        Assert.Equal(Storage, settings.Storage);
        Assert.Empty(settings.AllowedBuckets);
        Assert.False(settings.ReadOnly);
        Assert.Null(settings.Http);
        Assert.Equal(ServerSettings.DefaultMaxInlineBytes, settings.MaxInlineBytes);
        Assert.Equal(ServerSettings.DefaultMaxTextBytes, settings.MaxTextBytes);
        Assert.Null(settings.CatalogHost);
    }

    [Fact]
    public void Environment_variables_configure_everything_and_options_win()
    {
        var resolved = Resolve(
            new ServeInput { Buckets = ["from-option"], Port = 9001 },
            ("QUILT_MCP_BUCKETS", "env-a, env-b"), ("QUILT_MCP_READ_ONLY", "1"),
            ("QUILT_MCP_MAX_INLINE_BYTES", "2MiB"), ("QUILT_MCP_MAX_TEXT_BYTES", "64KB"), ("QUILT_MCP_CATALOG", "https://catalog.example.com/"),
            ("QUILT_MCP_HTTP", "true"));
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        var s = resolved.Settings!;
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
            new ServeInput { Buckets = ["Not_A_Bucket"], MaxInlineBytes = "lots", Http = true, Urls = ["http://0.0.0.0:8080"] },
            ("QUILT_MCP_READ_ONLY", "maybe"));
        Assert.False(resolved.IsValid);
        Assert.Null(resolved.Settings);
        var all = string.Join("\n", resolved.Errors);
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
        var resolved = Resolve(new ServeInput { Http = true, Urls = [url], AllowRemote = allowRemote });
        Assert.Equal(valid, resolved.IsValid);
    }

    [Fact]
    public void Http_options_without_http_are_mistakes()
    {
        var resolved = Resolve(new ServeInput { Port = 8000 });
        Assert.Contains(resolved.Errors, e => e.Contains("apply to the HTTP transport only", StringComparison.Ordinal));
        var both = Resolve(new ServeInput { Http = true, Port = 8000, Urls = ["http://127.0.0.1:9000"] });
        Assert.Contains(both.Errors, e => e.StartsWith("Give either --port or --urls", StringComparison.Ordinal));
    }

    [Fact]
    public void Allowed_buckets_accept_s3_uris_and_drop_duplicates()
    {
        var resolved = Resolve(new ServeInput(), ("QUILT_MCP_BUCKETS", "s3://alpha/,beta,alpha"));
        Assert.Equal(["alpha", "beta"], resolved.Settings!.AllowedBuckets);
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
        var resolved = Resolve(new ServeInput { MaxInlineBytes = "1GiB" });
        Assert.Contains(resolved.Errors, e => e.Contains("over the most this server allows", StringComparison.Ordinal));
    }
    // A JWT-shaped token whose payload is {"sub":"u","exp":<far future>}; the server never verifies it (the registry does).
    private static string Jwt(long exp) =>
        "eyJhbGciOiJIUzI1NiJ9." + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{{\"sub\":\"u\",\"exp\":{exp}}}")).TrimEnd('=').Replace('+', '-').Replace('/', '_') + ".c2ln";

    [Fact]
    public void A_registry_url_chooses_registry_mode_with_the_token_from_the_environment()
    {
        var token = Jwt(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());
        var resolved = Resolve(new ServeInput { Connection = new() { RegistryUrl = "https://registry.example.com" } }, ("QUILT_REGISTRY_TOKEN", token));
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        var settings = resolved.Settings!;
        Assert.True(settings.IsRegistryMode);
        Assert.Equal(new Uri("https://registry.example.com"), settings.RegistryUrl);
        Assert.Equal(token, settings.RegistryToken!.Token);
        // The settings may be logged: the token must not show.
        Assert.DoesNotContain(token, settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_bucket_as_registry_names_the_default_package_registry_and_keeps_the_storage()
    {
        var resolved = Resolve(new ServeInput { Connection = new() { RegistryBucket = "s3://team-data" } });
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        Assert.False(resolved.Settings!.IsRegistryMode);
        Assert.Equal("s3://team-data", resolved.Settings.DefaultRegistry);
    }

    [Fact]
    public void Registry_mode_without_a_usable_token_does_not_start_and_says_what_to_set()
    {
        var missing = Resolve(new ServeInput { Connection = new() { RegistryUrl = "https://registry.example.com" } });
        Assert.False(missing.IsValid);
        Assert.Contains(missing.Errors, e => e.Contains("QUILT_REGISTRY_TOKEN", StringComparison.Ordinal));

        var expired = Jwt(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds());
        var old = Resolve(new ServeInput { Connection = new() { RegistryUrl = "https://registry.example.com" } }, ("QUILT_REGISTRY_TOKEN", expired));
        Assert.Contains(old.Errors, e => e.Contains("expired", StringComparison.Ordinal) && !e.Contains(expired, StringComparison.Ordinal));

        var garbage = Resolve(new ServeInput { Connection = new() { RegistryUrl = "https://registry.example.com" } }, ("QUILT_REGISTRY_TOKEN", "Bearer not-a-jwt"));
        Assert.Contains(garbage.Errors, e => e.Contains("not a JWT", StringComparison.Ordinal));
    }

    [Fact]
    public void Registry_mode_takes_a_quilt_api_key_from_QUILT_API_KEY_or_the_token_variable_without_a_jwt_shape()
    {
        var registry = new ServeInput { Connection = new() { RegistryUrl = "https://registry.example.com" } };
        const string Key = "qk_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0aHVkZGxl";
        foreach (var variable in new[] { "QUILT_API_KEY", "QUILT_REGISTRY_TOKEN" })
        {
            var resolved = Resolve(registry, (variable, Key));
            Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
            Assert.Equal(Key, resolved.Settings!.RegistryToken!.Token);
            Assert.DoesNotContain(Key, resolved.Settings.RegistryToken.ToString()!, StringComparison.Ordinal);
        }

        // Not a key: says what a key looks like, and never quotes what was given.
        var jwtAsKey = Resolve(registry, ("QUILT_API_KEY", "not-a-key-secret"));
        Assert.Contains(jwtAsKey.Errors, e => e.Contains("starts with 'qk_'", StringComparison.Ordinal) && !e.Contains("not-a-key-secret", StringComparison.Ordinal));
        var spaced = Resolve(registry, ("QUILT_API_KEY", "qk_two words"));
        Assert.Contains(spaced.Errors, e => e.Contains("malformed", StringComparison.Ordinal));
        var both = Resolve(registry, ("QUILT_API_KEY", Key), ("QUILT_REGISTRY_TOKEN", Jwt(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds())));
        Assert.Contains(both.Errors, e => e.Contains("set only one", StringComparison.Ordinal));
        var none = Resolve(registry);
        Assert.Contains(none.Errors, e => e.Contains("QUILT_API_KEY", StringComparison.Ordinal));
    }

    [Fact]
    public void Registry_mode_over_http_takes_each_callers_token_instead()
    {
        var resolved = Resolve(new ServeInput { Connection = new() { RegistryUrl = "https://registry.example.com" }, Http = true });
        Assert.True(resolved.IsValid, string.Join("; ", resolved.Errors));
        Assert.Null(resolved.Settings!.RegistryToken);
    }
}
