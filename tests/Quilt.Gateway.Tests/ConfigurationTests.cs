using Quilt.Gateway.Configuration;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>Configuration from a file, a roles file, the environment and the command line, checked at start with clear messages.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new("quilt-gateway-config");

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string json)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, json);
        return path;
    }

    private const string Valid = """
        {
          "listen": "http://127.0.0.1:8080",
          "jwt": { "issuers": ["https://quilt.test"], "audiences": ["quilt-gateway"], "hs256Secret": "0123456789abcdef0123456789abcdef" },
          "s3": { "endpoint": "http://127.0.0.1:7480" },
          "rolesFile": "roles.json",
          "audit": { "sqlitePath": "state/gateway.db" }
        }
        """;

    private const string Roles = """
        {
          "roles": {
            "analyst": { "grants": [ { "bucket": "team-data", "prefix": "incoming/", "read": true, "write": true, "maxUploadBytes": 1048576 } ] }
          },
          "users": { "alice@example.com": { "roles": ["analyst"], "admin": true } }
        }
        """;

    [Fact]
    public void A_file_its_roles_file_the_environment_and_the_command_line_combine_later_ones_winning()
    {
        Write("roles.json", Roles);
        var config = Write("gateway.json", Valid);
        var options = ConfigurationLoader.Load(config, ["--listen=http://127.0.0.1:9999"],
            new Dictionary<string, string?> { ["QUILT_GATEWAY_JWT__HS256SECRET"] = "from-the-environment-0123456789abcdef", ["QUILT_GATEWAY_LISTEN"] = "http://127.0.0.1:1111" });
        OptionsValidator.Validate(options);
        Assert.Equal("http://127.0.0.1:9999", options.Listen);
        Assert.Equal("from-the-environment-0123456789abcdef", options.Jwt.Hs256Secret);
        Assert.Equal(1048576, options.Roles["analyst"].Grants[0].MaxUploadBytes);
        Assert.True(options.Users["alice@example.com"].Admin);
        // Relative paths are relative to the config file.
        Assert.Equal(_dir.Combine("state", "gateway.db"), options.Audit.SqlitePath);
    }

    [Fact]
    public void Every_problem_is_named_with_what_to_do()
    {
        var config = Write("bad.json", """
            {
              "listen": "ftp://nowhere",
              "jwt": { "issuers": [], "audiences": ["a"], "hs256Secret": "short" },
              "roles": {
                "broken": { "grants": [ { "bucket": "Not_A_Bucket", "prefix": "/abs/../x", "maxUploadBytes": 0 } ] },
                "empty": { "grants": [] }
              },
              "defaultRole": "ghost",
              "users": { "bob": { "roles": ["phantom"] } },
              "uploads": { "urlTtlSeconds": 99999999 },
              "graphql": { "maxDepth": 0, "timeoutSeconds": 0 },
              "audit": { "refusalsPerMinute": 0 },
              "cursorSecret": "short"
            }
            """);
        var ex = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(ConfigurationLoader.Load(config, [])));
        var all = string.Join("\n", ex.Problems);
        foreach (var expected in new[]
        {
            "listen 'ftp://nowhere'", "jwt.issuers is empty", "32 random bytes", "roles.broken.grants[0].bucket 'Not_A_Bucket'",
            "roles.broken.grants[0].prefix", "grants neither read nor write", "maxUploadBytes 0", "Role 'empty' has no grants",
            "defaultRole 'ghost'", "users.bob names role 'phantom'", "uploads.urlTtlSeconds", "graphql.maxDepth 0", "graphql.timeoutSeconds 0",
            "audit.refusalsPerMinute 0", "cursorSecret is shorter than 32 bytes",
        })
        {
            Assert.Contains(expected, all, StringComparison.Ordinal);
        }
    }

    // A grant prefix was checked with its trailing slashes cut off, so "a//" passed; prefixes now follow the tools' rules.
    [Theory]
    [InlineData("incoming//")]
    [InlineData("incoming/./")]
    public void A_grant_prefix_with_an_empty_or_dot_segment_is_refused(string prefix)
    {
        Write("roles.json", Roles.Replace("\"prefix\": \"incoming/\"", $"\"prefix\": \"{prefix}\"", StringComparison.Ordinal));
        var config = Write("gateway.json", Valid);
        var ex = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(ConfigurationLoader.Load(config, [])));
        Assert.Contains($"prefix '{prefix}' is not a valid key prefix", string.Join("\n", ex.Problems), StringComparison.Ordinal);

        Write("roles.json", Roles.Replace("\"prefix\": \"incoming/\"", "\"prefix\": \"incoming/nested/\"", StringComparison.Ordinal));
        OptionsValidator.Validate(ConfigurationLoader.Load(config, []));
    }

    [Fact]
    public void A_misspelt_setting_is_reported()
    {
        var config = Write("typo.json", """{ "listn": "http://127.0.0.1:1" }""");
        var ex = Assert.Throws<GatewayConfigurationException>(() => ConfigurationLoader.Load(config, []));
        Assert.Contains("listn", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_key_source_or_jwks_file_is_reported()
    {
        var config = Write("nokey.json", """{ "jwt": { "issuers": ["i"], "audiences": ["a"], "jwksFile": "missing.json" }, "roles": { "r": { "grants": [ { "bucket": "abc", "read": true } ] } } }""");
        var ex = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(ConfigurationLoader.Load(config, [])));
        Assert.Contains(ex.Problems, p => p.Contains("jwt.jwksFile", StringComparison.Ordinal) && p.Contains("cannot be read", StringComparison.Ordinal));

        var none = Write("none.json", """{ "jwt": { "issuers": ["i"], "audiences": ["a"] }, "roles": { "r": { "grants": [ { "bucket": "abc", "read": true } ] } } }""");
        ex = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(ConfigurationLoader.Load(none, [])));
        Assert.Contains(ex.Problems, p => p.Contains("No token key is configured", StringComparison.Ordinal));

        var privateKey = Write("private.json", """{ "keys": [ { "kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB", "d": "AQAB" } ] }""");
        var withPrivate = Write("withprivate.json", $$"""{ "jwt": { "issuers": ["i"], "audiences": ["a"], "jwksFile": "{{privateKey}}" }, "roles": { "r": { "grants": [ { "bucket": "abc", "read": true } ] } } }""");
        ex = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(ConfigurationLoader.Load(withPrivate, [])));
        Assert.Contains(ex.Problems, p => p.Contains("private key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_check_command_exits_2_with_the_problems_or_0_when_valid()
    {
        var bad = Write("check-bad.json", """{ "jwt": { "issuers": ["i"] } }""");
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(2, await GatewayCli.RunAsync(["check", "--config", bad], output, error));
        Assert.Contains("jwt.audiences is empty", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("No roles are configured", error.ToString(), StringComparison.Ordinal);

        Write("roles.json", Roles);
        var good = Write("check-good.json", Valid);
        using var ok = new StringWriter();
        Assert.Equal(0, await GatewayCli.RunAsync(["check", "--config", good], ok, error));
        Assert.Contains("valid", ok.ToString(), StringComparison.Ordinal);

        Assert.Equal(2, await GatewayCli.RunAsync(["check", "--config", _dir.Combine("nope.json")], ok, error));
        Assert.Contains("does not exist", error.ToString(), StringComparison.Ordinal);
    }
}
