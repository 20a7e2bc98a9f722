using Quilt.Operations;

namespace Quilt.Mcp.Configuration;

/// <summary>
/// The server's own options as given on the command line, before defaults and environment variables are applied
/// (where the data is, <see cref="Connection"/>, is resolved as for every command: see Quilt.Operations.ConnectionResolver).
/// Null (or empty) means "not given"; <see cref="ServerSettingsResolver"/> turns it into <see cref="ServerSettings"/>.
/// </summary>
public sealed record ServeInput
{
    public IReadOnlyList<string> Buckets { get; init; } = [];
    public bool? ReadOnly { get; init; }
    public string? MaxInlineBytes { get; init; }
    public string? MaxTextBytes { get; init; }
    public string? Catalog { get; init; }
    public bool? Http { get; init; }
    public IReadOnlyList<string> Urls { get; init; } = [];
    public int? Port { get; init; }
    public bool? AllowRemote { get; init; }
    public string? AuthIssuer { get; init; }
    public string? AuthJwks { get; init; }
    public string? Resource { get; init; }

    /// <summary><c>root</c> (the default) or <c>full</c>: how much of each tool's output schema tools/list gives.</summary>
    public string? OutputSchemas { get; init; }

    /// <summary>--storage and the other storage options, --registry-url, --registry-bucket (and the deprecated --registry).</summary>
    public ConnectionInput Connection { get; init; } = new();
}
