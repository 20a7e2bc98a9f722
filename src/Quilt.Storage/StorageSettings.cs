namespace Quilt.Storage;

public enum StorageKind
{
    /// <summary>A local folder whose subfolders are buckets: the zero-setup default.</summary>
    Local,

    /// <summary>AWS S3 or any S3-compatible endpoint, with the AWS SDK's own credential chain.</summary>
    S3,
}

/// <summary>
/// Which store to use and how to reach it: a local folder or S3. (A Quilt registry server is no store kind here: the
/// composition root in Quilt.Operations chooses it over these settings.) Environment variables: QUILT_MCP_ROOT,
/// AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_PROFILE, QUILT_MCP_PATH_STYLE.
/// </summary>
public sealed record StorageSettings
{
    public StorageKind Kind { get; init; } = StorageKind.Local;
    public string? LocalRoot { get; init; }
    public string? Region { get; init; }
    public string? EndpointUrl { get; init; }
    public string? Profile { get; init; }
    public bool ForcePathStyle { get; init; }

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
        _ => throw new ArgumentException($"Invalid storage '{value}'. Valid values are: local, s3."),
    };

    /// <summary>The store's settings from the environment variables (see above); the kind is the caller's to choose.</summary>
    public static StorageSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;
        return new StorageSettings
        {
            LocalRoot = Env("QUILT_MCP_ROOT"),
            Region = Env("AWS_REGION"),
            EndpointUrl = Env("AWS_ENDPOINT_URL_S3"),
            Profile = Env("AWS_PROFILE"),
            ForcePathStyle = Env("QUILT_MCP_PATH_STYLE") is "1" or "true" or "TRUE" or "True",
        };
    }

    /// <summary>Checks the settings before anything starts; the message says what to fix.</summary>
    public void Validate()
    {
        if (EndpointUrl is not null && !(Uri.TryCreate(EndpointUrl, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")))
            throw new ArgumentException($"Invalid S3 endpoint '{EndpointUrl}': give an http:// or https:// URL such as http://127.0.0.1:7480.");
        if (Kind == StorageKind.Local && LocalRoot is not null && LocalRoot.Length == 0)
            throw new ArgumentException("The local storage root is empty: give a folder path.");
    }
}
