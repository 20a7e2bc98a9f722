namespace Quilt.Mcp.Configuration;

/// <summary>
/// The server's options as given on the command line, before defaults and environment variables are applied.
/// Null (or empty) means "not given"; <see cref="ServerSettingsResolver"/> turns it into <see cref="ServerSettings"/>.
/// </summary>
public sealed record ServeInput
{
    public string? Storage { get; init; }
    public string? Root { get; init; }
    public string? Region { get; init; }
    public string? Endpoint { get; init; }
    public string? Profile { get; init; }
    public bool? PathStyle { get; init; }
    public IReadOnlyList<string> Buckets { get; init; } = [];
    public bool? ReadOnly { get; init; }
    public string? MaxInlineBytes { get; init; }
    public string? MaxTextBytes { get; init; }
    public string? Catalog { get; init; }
    public bool? Http { get; init; }
    public IReadOnlyList<string> Urls { get; init; } = [];
    public int? Port { get; init; }
    public bool? AllowRemote { get; init; }
}
