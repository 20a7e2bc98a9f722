namespace Quilt.Mcp.Configuration;

/// <summary>
/// The server's own options as given on the command line, before defaults and environment variables are applied
/// (storage options are shared with every command: see Quilt.Storage.StorageSettings). Null (or empty) means
/// "not given"; <see cref="ServerSettingsResolver"/> turns it into <see cref="ServerSettings"/>.
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

    /// <summary>--registry: an http(s) URL chooses registry mode; a bucket (or s3://bucket) is the default package registry.</summary>
    public string? Registry { get; init; }
}
