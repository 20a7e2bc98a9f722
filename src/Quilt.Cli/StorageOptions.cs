using System.CommandLine;
using Quilt.Operations;
using Quilt.Storage;

namespace Quilt.Cli;

/// <summary>The storage options every command shares (also settable by environment variables).</summary>
internal static class StorageOptions
{
    public static readonly Option<string?> Storage = new("--storage")
    {
        Description = "Where objects live: 'local' (a folder whose subfolders are buckets; the default), 's3', or 'registry' (a Quilt registry server at --registry-url, token in QUILT_API_KEY or QUILT_REGISTRY_TOKEN). Env: QUILT_MCP_STORAGE.",
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

    public static readonly Option<string?> RegistryUrl = new("--registry-url")
    {
        Description = "A Quilt registry server (https://registry.example.com) to work through (registry mode): everything goes through its API "
            + "with a Quilt API key from QUILT_API_KEY or a JWT from QUILT_REGISTRY_TOKEN (for serve --http, each caller's own Authorization: Bearer token), never AWS credentials. "
            + "Env: QUILT_REGISTRY_URL.",
        Recursive = true,
    };

    public static void AddTo(Command root)
    {
        root.Options.Add(Storage);
        root.Options.Add(Root);
        root.Options.Add(Region);
        root.Options.Add(Endpoint);
        root.Options.Add(Profile);
        root.Options.Add(PathStyle);
        root.Options.Add(RegistryUrl);
    }

    /// <summary>
    /// The connection options as given (the same for serve and every other command): <paramref name="registryBucket"/> and
    /// <paramref name="legacyRegistry"/> are the calling command's --registry-bucket and deprecated --registry, if it has them.
    /// </summary>
    public static ConnectionInput Input(ParseResult parse, string? registryBucket = null, string? legacyRegistry = null) => new()
    {
        Storage = parse.GetValue(Storage),
        Root = parse.GetValue(Root),
        Region = parse.GetValue(Region),
        Endpoint = parse.GetValue(Endpoint),
        Profile = parse.GetValue(Profile),
        PathStyle = parse.GetValue(PathStyle),
        RegistryUrl = parse.GetValue(RegistryUrl),
        RegistryBucket = registryBucket,
        Registry = legacyRegistry,
    };

    /// <summary>
    /// Options first, then environment variables, then defaults (see <see cref="ConnectionResolver"/>); deprecation notes
    /// go to stderr, and bad settings throw <see cref="ArgumentException"/> saying what to fix.
    /// </summary>
    public static ConnectionChoice Resolve(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        // A package command's --registry is its --registry-bucket under the old name: say which to use.
        if (parse.Tokens.Any(t => t.Type == System.CommandLine.Parsing.TokenType.Option && t.Value == "--registry"))
            Console.Error.WriteLine("note: --registry is deprecated: use --registry-bucket (the same value).");
        var resolved = ConnectionResolver.Resolve(Input(parse));
        foreach (var note in resolved.Notes)
            Console.Error.WriteLine("note: " + note);
        if (resolved.Choice is null)
            throw new ArgumentException(string.Join(" ", resolved.Errors));
        return resolved.Choice;
    }

    /// <summary>The local or S3 storage the options name (see <see cref="Resolve"/>).</summary>
    public static StorageSettings Read(ParseResult parse) => Resolve(parse).Storage;
}
