namespace Quilt.Storage;

public enum StorageKind
{
    /// <summary>A local folder whose subfolders are buckets: the zero-setup default.</summary>
    Local,

    /// <summary>AWS S3 or any S3-compatible endpoint, with the AWS SDK's own credential chain.</summary>
    S3,

    /// <summary>
    /// A Quilt registry (or quilt-gateway) at <see cref="StorageSettings.RegistryUrl"/>: S3 through its GraphQL API with a
    /// Quilt JWT, never AWS credentials (the store lives in Quilt.Registry).
    /// </summary>
    Registry,
}

/// <summary>
/// Which store to use and how to reach it; shared by the command line and the MCP server. Environment variables:
/// QUILT_MCP_STORAGE (local|s3|registry), QUILT_MCP_ROOT, AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_PROFILE, QUILT_MCP_PATH_STYLE,
/// QUILT_REGISTRY_URL (or an http(s) URL in QUILT_MCP_REGISTRY), which chooses registry mode.
/// </summary>
public sealed record StorageSettings
{
    public StorageKind Kind { get; init; } = StorageKind.Local;
    public string? LocalRoot { get; init; }
    public string? Region { get; init; }
    public string? EndpointUrl { get; init; }
    public string? Profile { get; init; }
    public bool ForcePathStyle { get; init; }

    public const string RegistryUrlVariable = "QUILT_REGISTRY_URL";

    /// <summary>The Quilt registry's address (https://registry.example.com) in registry mode.</summary>
    public string? RegistryUrl { get; init; }

    /// <summary>Whether a --registry value (or QUILT_MCP_REGISTRY) is a registry's address rather than a bucket.</summary>
    public static bool IsRegistryUrl(string? value) =>
        value is not null && (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://", StringComparison.OrdinalIgnoreCase));

    /// <summary>$QUILT_MCP_ROOT, else $XDG_DATA_HOME/quilt-mcp, else ~/.local/share/quilt-mcp.</summary>
    public static string DefaultLocalRoot
    {
        get
        {
            var explicitRoot = Environment.GetEnvironmentVariable("QUILT_MCP_ROOT");
            if (!string.IsNullOrWhiteSpace(explicitRoot))
                return Path.GetFullPath(explicitRoot);
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            var data = !string.IsNullOrWhiteSpace(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(data, "quilt-mcp");
        }
    }

    /// <summary>Parses local|s3; throws <see cref="ArgumentException"/> naming the valid values.</summary>
    public static StorageKind ParseKind(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "local" => StorageKind.Local,
        "s3" => StorageKind.S3,
        "registry" => StorageKind.Registry,
        _ => throw new ArgumentException($"Invalid storage '{value}'. Valid values are: local, s3, registry."),
    };

    public static StorageSettings FromEnvironment()
    {
        var registryUrl = Environment.GetEnvironmentVariable(RegistryUrlVariable) is { Length: > 0 } url ? url.Trim()
            : Environment.GetEnvironmentVariable("QUILT_MCP_REGISTRY") is { } registry && IsRegistryUrl(registry.Trim()) ? registry.Trim()
            : null;
        var kind = Environment.GetEnvironmentVariable("QUILT_MCP_STORAGE") is { Length: > 0 } storage ? ParseKind(storage)
            : registryUrl is not null ? StorageKind.Registry
            : StorageKind.Local;
        return FromEnvironmentVariables() with { Kind = kind, RegistryUrl = registryUrl };
    }

    private static StorageSettings FromEnvironmentVariables() => new()
    {
        LocalRoot = Environment.GetEnvironmentVariable("QUILT_MCP_ROOT"),
        Region = Environment.GetEnvironmentVariable("AWS_REGION"),
        EndpointUrl = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3"),
        Profile = Environment.GetEnvironmentVariable("AWS_PROFILE"),
        ForcePathStyle = Environment.GetEnvironmentVariable("QUILT_MCP_PATH_STYLE") is "1" or "true" or "TRUE" or "True",
    };

    /// <summary>Checks the settings before anything starts; the message says what to fix.</summary>
    public void Validate()
    {
        if (EndpointUrl is not null && !(Uri.TryCreate(EndpointUrl, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")))
            throw new ArgumentException($"Invalid S3 endpoint '{EndpointUrl}': give an http:// or https:// URL such as http://127.0.0.1:7480.");
        if (Kind == StorageKind.Local && LocalRoot is not null && LocalRoot.Length == 0)
            throw new ArgumentException("The local storage root is empty: give a folder path.");
        if (Kind == StorageKind.Registry && !(Uri.TryCreate(RegistryUrl, UriKind.Absolute, out var registry) && (registry.Scheme == "http" || registry.Scheme == "https")))
        {
            throw new ArgumentException(RegistryUrl is null
                ? $"Registry mode needs the registry's address: give --registry https://registry.example.com (or set {RegistryUrlVariable})."
                : $"Invalid registry URL '{RegistryUrl}': give the registry's https:// address, such as https://registry.example.com.");
        }
    }
}
