using System.CommandLine;
using Quilt.Storage;

namespace Quilt.Cli;

/// <summary>The storage options every command shares (also settable by environment variables).</summary>
internal static class StorageOptions
{
    public static readonly Option<string?> Storage = new("--storage")
    {
        Description = "Where objects live: 'local' (a folder whose subfolders are buckets; the default), 's3', or 'registry' (a Quilt registry at QUILT_REGISTRY_URL, token in QUILT_REGISTRY_TOKEN). Env: QUILT_MCP_STORAGE.",
        Recursive = true,
    };

    public static readonly Option<string?> Root = new("--root")
    {
        Description = "The local storage folder (default: $QUILT_MCP_ROOT or ~/.local/share/quilt-mcp).",
        Recursive = true,
    };

    public static readonly Option<string?> Region = new("--region") { Description = "AWS region (default: the AWS SDK's, e.g. AWS_REGION).", Recursive = true };

    public static readonly Option<string?> Endpoint = new("--endpoint")
    {
        Description = "S3-compatible endpoint URL such as http://127.0.0.1:7480 (default: AWS_ENDPOINT_URL_S3, else AWS).",
        Recursive = true,
    };

    public static readonly Option<string?> Profile = new("--profile") { Description = "AWS profile name (default: the AWS SDK's credential chain).", Recursive = true };

    public static readonly Option<bool> PathStyle = new("--path-style") { Description = "Address buckets by path (needed by most non-AWS endpoints).", Recursive = true };

    public static void AddTo(Command root)
    {
        root.Options.Add(Storage);
        root.Options.Add(Root);
        root.Options.Add(Region);
        root.Options.Add(Endpoint);
        root.Options.Add(Profile);
        root.Options.Add(PathStyle);
    }

    /// <summary>
    /// Options first, then environment variables, then defaults. <paramref name="registryUrl"/> (serve's --registry with a
    /// URL) chooses registry mode before the settings are checked.
    /// </summary>
    public static StorageSettings Read(ParseResult parse, string? registryUrl = null)
    {
        var env = StorageSettings.FromEnvironment();
        var kind = parse.GetValue(Storage) is { } s ? StorageSettings.ParseKind(s) : env.Kind;
        var settings = env with
        {
            Kind = kind,
            LocalRoot = parse.GetValue(Root) ?? env.LocalRoot,
            Region = parse.GetValue(Region) ?? env.Region,
            EndpointUrl = parse.GetValue(Endpoint) ?? env.EndpointUrl,
            Profile = parse.GetValue(Profile) ?? env.Profile,
            ForcePathStyle = parse.GetValue(PathStyle) || env.ForcePathStyle,
        };
        if (registryUrl is not null)
            settings = settings with { Kind = StorageKind.Registry, RegistryUrl = registryUrl };
        settings.Validate();
        return settings;
    }
}
