using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// Where the data is, as a command line gives it (null: not given), before environment variables and defaults: the
/// storage options every command shares, and the registry options.
/// </summary>
public sealed record ConnectionInput
{
    /// <summary>--storage: local, s3, or registry (a Quilt registry server, whose address <see cref="RegistryUrl"/> gives).</summary>
    public string? Storage { get; init; }
    public string? Root { get; init; }
    public string? Region { get; init; }
    public string? Endpoint { get; init; }
    public string? Profile { get; init; }
    public bool PathStyle { get; init; }

    /// <summary>--registry-url: a Quilt registry server; everything goes through it (registry mode).</summary>
    public string? RegistryUrl { get; init; }

    /// <summary>--registry-bucket: the bucket holding packages when a command names none.</summary>
    public string? RegistryBucket { get; init; }

    /// <summary>The deprecated --registry: an http(s) URL is read as --registry-url, anything else as --registry-bucket.</summary>
    public string? Registry { get; init; }
}

/// <summary>Where operations reach their data, resolved and checked; <see cref="StoreConnection.Open(ConnectionChoice, IRegistryTokenSource?)"/> opens it.</summary>
public sealed record ConnectionChoice
{
    /// <summary>The local folder or S3 (unused in registry mode).</summary>
    public required StorageSettings Storage { get; init; }

    /// <summary>The Quilt registry server everything goes through, or null.</summary>
    public Uri? RegistryUrl { get; init; }

    /// <summary>The bucket holding packages when a command names none (as given: a name or s3://bucket), or null.</summary>
    public string? RegistryBucket { get; init; }

    public bool IsRegistryMode => RegistryUrl is not null;
}

/// <summary>A choice, or every problem found; <see cref="Notes"/> are deprecation notes for stderr.</summary>
public sealed record ResolvedConnection(ConnectionChoice? Choice, IReadOnlyList<string> Errors, IReadOnlyList<string> Notes);

/// <summary>
/// Turns the connection options and their environment variables into a <see cref="ConnectionChoice"/>, the same way for
/// `serve` and every other command. An option wins over its variable. A registry URL chooses registry mode, unless the
/// storage is chosen as local or s3 and the URL came from the environment only.
/// </summary>
public static class ConnectionResolver
{
    public const string StorageVariable = "QUILT_MCP_STORAGE";
    public const string RegistryUrlVariable = "QUILT_REGISTRY_URL";
    public const string RegistryBucketVariable = "QUILT_MCP_REGISTRY";

    /// <summary>Whether a value is an http(s) address (a registry server's) rather than a bucket.</summary>
    public static bool IsUrl(string? value) =>
        value is not null && (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Resolves against the process environment.</summary>
    public static ResolvedConnection Resolve(ConnectionInput input) => Resolve(input, Environment.GetEnvironmentVariable);

    public static ResolvedConnection Resolve(ConnectionInput input, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(environment);
        var errors = new List<string>();
        var notes = new List<string>();
        string? Env(string name) => environment(name) is { Length: > 0 } value && value.Trim().Length > 0 ? value.Trim() : null;
        string? Given(string? value) => value is { } v && v.Trim().Length > 0 ? v.Trim() : null;

        string? legacyUrl = null, legacyBucket = null;
        if (Given(input.Registry) is { } legacy)
        {
            if (IsUrl(legacy))
                legacyUrl = legacy;
            else
                legacyBucket = legacy;
            notes.Add($"--registry is deprecated: use {(IsUrl(legacy) ? "--registry-url" : "--registry-bucket")} {legacy}.");
        }

        var url = Given(input.RegistryUrl) ?? legacyUrl;
        var urlFromOption = url is not null;
        url ??= Env(RegistryUrlVariable);
        var bucket = Given(input.RegistryBucket) ?? legacyBucket;
        if (Env(RegistryBucketVariable) is { } fromEnv)
        {
            if (!IsUrl(fromEnv))
                bucket ??= fromEnv;
            else if (url is null)
            {
                url = fromEnv;
                notes.Add($"{RegistryBucketVariable} names the bucket of packages: set {RegistryUrlVariable}={fromEnv} for a registry server instead.");
            }
        }

        var kindText = Given(input.Storage) ?? Env(StorageVariable);
        var kind = StorageKind.Local;
        var registryMode = url is not null;
        switch (kindText?.ToLowerInvariant())
        {
            case null:
                break;
            case "registry":
                if (url is null)
                    errors.Add($"Registry mode needs the registry's address: give --registry-url https://registry.example.com (or set {RegistryUrlVariable}).");
                break;
            case "local" or "s3":
                kind = StorageSettings.ParseKind(kindText);
                // A storage chosen by name wins over a registry URL that only the environment gives.
                registryMode = urlFromOption;
                break;
            default:
                errors.Add($"Invalid storage '{kindText}'. Valid values are: local, s3, registry.");
                break;
        }

        var env = StorageSettings.FromEnvironment(environment);
        var storage = env with
        {
            Kind = kind,
            LocalRoot = input.Root ?? env.LocalRoot,
            Region = input.Region ?? env.Region,
            EndpointUrl = input.Endpoint ?? env.EndpointUrl,
            Profile = input.Profile ?? env.Profile,
            ForcePathStyle = input.PathStyle || env.ForcePathStyle,
        };
        Uri? registryUrl = null;
        if (registryMode && url is not null)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
            {
                try
                {
                    RegistryApiClient.NormalizeBaseUrl(parsed);
                    registryUrl = parsed;
                }
                catch (ArgumentException e)
                {
                    errors.Add(e.Message);
                }
            }
            else
            {
                errors.Add($"Invalid registry URL '{url}': give the registry's https:// address, such as https://registry.example.com.");
            }
        }
        try
        {
            storage.Validate();
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
        return errors.Count > 0
            ? new ResolvedConnection(null, errors, notes)
            : new ResolvedConnection(new ConnectionChoice { Storage = storage, RegistryUrl = registryUrl, RegistryBucket = bucket }, errors, notes);
    }
}
