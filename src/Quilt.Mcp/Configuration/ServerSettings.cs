using Quilt.Operations;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Mcp.Configuration;

/// <summary>Everything the MCP server needs to start, already validated (see <see cref="ServerSettingsResolver"/>).</summary>
public sealed record ServerSettings : OperationSettings
{
    /// <summary>
    /// The longest JSON-RPC message the server reads (a line over stdio, a request body over HTTP): 16 MiB, or more when
    /// the inline limit needs it (an inline object at the limit, base64 or escaped, with room to spare). Tool arguments are
    /// otherwise small; a longer message is refused with an error instead of being held whole in memory.
    /// </summary>
    public int MaxMessageBytes => (int)Math.Max(DefaultMaxMessageBytes, 2 * MaxInlineBytes + (1 << 20));

    public const int DefaultMaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Registry mode over stdio: the one token (QUILT_REGISTRY_TOKEN) every request uses. Null over HTTP, where each
    /// request brings its caller's own bearer token.
    /// </summary>
    public IRegistryTokenSource? RegistryToken { get; init; }

    /// <summary>An upload of local files over this many bytes in all asks the user first, when the client can be asked (elicitation).</summary>
    public long ConfirmUploadBytes { get; init; } = DefaultConfirmUploadBytes;

    public const long DefaultConfirmUploadBytes = 1L << 30;

    /// <summary>
    /// tools/list gives each tool's whole output schema (<c>--output-schemas full</c>), for clients that validate
    /// structuredContent field by field; by default only its root type, which keeps tools/list small (issue 14).
    /// </summary>
    public bool FullOutputSchemas { get; init; }

    /// <summary>Streamable HTTP settings, or null to serve over stdio.</summary>
    public HttpSettings? Http { get; init; }

    /// <summary>Not when remote clients are allowed: their paths would name this machine's files, not theirs.</summary>
    public override bool LocalFilesAllowed => Http?.AllowRemote != true;
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

    /// <summary>OAuth authorization of callers (see <see cref="AuthSettings"/>), or null for none (loopback only).</summary>
    public AuthSettings? Auth { get; init; }
}
