using Quilt.Storage;

namespace Quilt.Operations.Tests;

/// <summary>
/// The storage and registry options mean the same for serve and every other command: a registry server URL chooses
/// registry mode, a bucket names where packages live, and the old --registry still works with a note.
/// </summary>
public sealed class ConnectionResolverTests
{
    private static ResolvedConnection Resolve(ConnectionInput input, params (string Name, string Value)[] env)
    {
        var variables = env.ToDictionary(e => e.Name, e => e.Value);
        return ConnectionResolver.Resolve(input, name => variables.GetValueOrDefault(name));
    }

    private static ConnectionChoice Valid(ResolvedConnection resolved)
    {
        Assert.True(resolved.Choice is not null, string.Join("; ", resolved.Errors));
        return resolved.Choice;
    }

    [Fact]
    public void Nothing_given_is_the_local_folder()
    {
        var choice = Valid(Resolve(new ConnectionInput()));
        Assert.False(choice.IsRegistryMode);
        Assert.Equal(StorageKind.Local, choice.Storage.Kind);
        Assert.Null(choice.RegistryBucket);
    }

    [Fact]
    public void A_registry_url_chooses_registry_mode_and_a_registry_bucket_names_where_packages_live()
    {
        var resolved = Resolve(new ConnectionInput { RegistryUrl = "https://registry.example.com", RegistryBucket = "team-data" });
        var choice = Valid(resolved);
        Assert.True(choice.IsRegistryMode);
        Assert.Equal(new Uri("https://registry.example.com"), choice.RegistryUrl);
        Assert.Equal("team-data", choice.RegistryBucket);
        Assert.Empty(resolved.Notes);
    }

    [Fact]
    public void Storage_registry_keeps_working_with_the_url_from_the_environment()
    {
        var choice = Valid(Resolve(new ConnectionInput { Storage = "registry" }, ("QUILT_REGISTRY_URL", "https://registry.example.com")));
        Assert.True(choice.IsRegistryMode);
        Assert.Equal(new Uri("https://registry.example.com"), choice.RegistryUrl);
    }

    [Fact]
    public void Storage_registry_without_a_url_says_which_option_to_give()
    {
        var resolved = Resolve(new ConnectionInput { Storage = "registry" });
        Assert.Null(resolved.Choice);
        Assert.Contains(resolved.Errors, e => e.Contains("--registry-url https://registry.example.com", StringComparison.Ordinal)
            && e.Contains("QUILT_REGISTRY_URL", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://registry.example.com", "--registry is deprecated: use --registry-url https://registry.example.com.")]
    [InlineData("s3://team-data", "--registry is deprecated: use --registry-bucket s3://team-data.")]
    public void The_old_registry_option_still_works_with_a_note_naming_the_new_one(string value, string note)
    {
        var resolved = Resolve(new ConnectionInput { Registry = value });
        var choice = Valid(resolved);
        Assert.Equal(note, Assert.Single(resolved.Notes));
        if (value.StartsWith("https://", StringComparison.Ordinal))
        {
            Assert.True(choice.IsRegistryMode);
            Assert.Null(choice.RegistryBucket);
        }
        else
        {
            Assert.False(choice.IsRegistryMode);
            Assert.Equal(value, choice.RegistryBucket);
        }
    }

    [Fact]
    public void A_url_in_QUILT_MCP_REGISTRY_still_chooses_registry_mode_with_a_note()
    {
        var resolved = Resolve(new ConnectionInput(), ("QUILT_MCP_REGISTRY", "https://registry.example.com"));
        var choice = Valid(resolved);
        Assert.True(choice.IsRegistryMode);
        Assert.Null(choice.RegistryBucket);
        Assert.Contains("QUILT_REGISTRY_URL=https://registry.example.com", Assert.Single(resolved.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_bucket_in_QUILT_MCP_REGISTRY_names_where_packages_live_and_the_option_wins()
    {
        Assert.Equal("env-bucket", Valid(Resolve(new ConnectionInput(), ("QUILT_MCP_REGISTRY", "env-bucket"))).RegistryBucket);
        Assert.Equal("option-bucket", Valid(Resolve(new ConnectionInput { RegistryBucket = "option-bucket" }, ("QUILT_MCP_REGISTRY", "env-bucket"))).RegistryBucket);
    }

    [Fact]
    public void A_storage_named_wins_over_a_registry_url_from_the_environment_but_not_over_the_option()
    {
        var fromEnvironment = Valid(Resolve(new ConnectionInput { Storage = "s3" }, ("QUILT_REGISTRY_URL", "https://registry.example.com")));
        Assert.False(fromEnvironment.IsRegistryMode);
        Assert.Equal(StorageKind.S3, fromEnvironment.Storage.Kind);

        var fromOption = Valid(Resolve(new ConnectionInput { RegistryUrl = "https://registry.example.com" }, ("QUILT_MCP_STORAGE", "s3")));
        Assert.True(fromOption.IsRegistryMode);
    }

    [Fact]
    public void Options_win_over_the_storage_variables()
    {
        var choice = Valid(Resolve(new ConnectionInput { Storage = "s3", Endpoint = "http://127.0.0.1:9000" },
            ("QUILT_MCP_STORAGE", "local"), ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480"), ("AWS_REGION", "eu-west-1")));
        Assert.Equal(StorageKind.S3, choice.Storage.Kind);
        Assert.Equal("http://127.0.0.1:9000", choice.Storage.EndpointUrl);
        Assert.Equal("eu-west-1", choice.Storage.Region);
    }

    [Theory]
    [InlineData("ftp", "Invalid storage 'ftp'. Valid values are: local, s3, registry.")]
    public void A_bad_storage_is_refused_naming_the_valid_values(string storage, string expected) =>
        Assert.Contains(expected, Resolve(new ConnectionInput { Storage = storage }).Errors);

    [Theory]
    [InlineData("https://registry.example.com/?x=1", "without query")]
    [InlineData("http://", "Invalid registry URL")]
    public void A_bad_registry_url_is_refused_saying_what_to_give(string url, string expected)
    {
        var resolved = Resolve(new ConnectionInput { RegistryUrl = url });
        Assert.Null(resolved.Choice);
        Assert.Contains(resolved.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }
}
