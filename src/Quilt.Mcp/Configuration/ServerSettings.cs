using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Mcp.Configuration;

/// <summary>Everything the MCP server needs to start, already validated (see <see cref="ServerSettingsResolver"/>).</summary>
public sealed record ServerSettings
{
    public const long DefaultMaxInlineBytes = 1024 * 1024;
    public const int DefaultMaxTextBytes = 256 * 1024;

    /// <summary>Base64 inflates by a third and the whole answer is one JSON message: keep inline content modest.</summary>
    public const long MaxMaxInlineBytes = 64L * 1024 * 1024;
    public const int MaxMaxTextBytes = 16 * 1024 * 1024;

    public required StorageSettings Storage { get; init; }

    /// <summary>The buckets the tools may touch; empty means every bucket the credentials reach.</summary>
    public IReadOnlyList<string> AllowedBuckets { get; init; } = [];

    public bool ReadOnly { get; init; }

    /// <summary>Largest object returned inline by fetch, and largest inline text/base64 accepted by put.</summary>
    public long MaxInlineBytes { get; init; } = DefaultMaxInlineBytes;

    /// <summary>Largest byte range the text tool reads in one call.</summary>
    public int MaxTextBytes { get; init; } = DefaultMaxTextBytes;

    /// <summary>
    /// The longest JSON-RPC message the server reads (a line over stdio, a request body over HTTP): 16 MiB, or more when
    /// the inline limit needs it (an inline object at the limit, base64 or escaped, with room to spare). Tool arguments are
    /// otherwise small; a longer message is refused with an error instead of being held whole in memory.
    /// </summary>
    public int MaxMessageBytes => (int)Math.Max(DefaultMaxMessageBytes, 2 * MaxInlineBytes + (1 << 20));

    public const int DefaultMaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>A Quilt catalog host (e.g. <c>open.quiltdata.com</c>) for catalog links; null for none.</summary>
    public string? CatalogHost { get; init; }

    /// <summary>The bucket holding packages when a tool names none (--registry bucket); null: QUILT_MCP_REGISTRY or the policy's default.</summary>
    public string? DefaultRegistry { get; init; }

    /// <summary>
    /// Registry mode over stdio: the one token (QUILT_REGISTRY_TOKEN) every request uses. Null over HTTP, where each
    /// request brings its caller's own bearer token.
    /// </summary>
    public IRegistryTokenSource? RegistryToken { get; init; }

    public bool IsRegistryMode => Storage.Kind == StorageKind.Registry;

    /// <summary>Streamable HTTP settings, or null to serve over stdio.</summary>
    public HttpSettings? Http { get; init; }

    /// <summary>
    /// Whether tools may read and write files on the server's machine (put from localPath, fetch to a destination).
    /// Not when remote clients are allowed: their paths would name this machine's files, not theirs.
    /// </summary>
    public bool LocalFilesAllowed => Http?.AllowRemote != true;
}

/// <summary>Where the Streamable HTTP endpoint listens.</summary>
public sealed record HttpSettings
{
    public const int DefaultPort = 8765;

    /// <summary>Kestrel URLs such as <c>http://127.0.0.1:8765</c>; port 0 picks a free port.</summary>
    public required IReadOnlyList<string> Urls { get; init; }

    /// <summary>The path of the MCP endpoint.</summary>
    public string Path { get; init; } = "/mcp";

    public bool AllowRemote { get; init; }
}
