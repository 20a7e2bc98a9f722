namespace Quilt.Mcp.Configuration;

public enum StorageKind
{
    Local,
    S3,
}

/// <summary>
/// Which object store to open and how. Shared by the MCP server and the command line; it holds no secrets
/// (S3 credentials come from the usual AWS chain: environment, profile, instance role).
/// </summary>
public sealed record StorageSettings
{
    public StorageKind Kind { get; init; } = StorageKind.Local;

    /// <summary>The folder whose subfolders are the buckets (local storage only).</summary>
    public string? Root { get; init; }

    /// <summary>True when <see cref="Root"/> is the default location, which is created on first use.</summary>
    public bool RootIsDefault { get; init; }

    public string? Region { get; init; }

    /// <summary>An S3-compatible endpoint (MinIO, Ceph, LocalStack); null for AWS itself.</summary>
    public Uri? Endpoint { get; init; }

    public string? Profile { get; init; }

    public bool ForcePathStyle { get; init; }

    /// <summary>A one-line description for logs: where the data is, never credentials.</summary>
    public string Describe() => Kind switch
    {
        StorageKind.Local => $"local folder {Root}",
        _ => "S3" + (Endpoint is null ? "" : $" at {Endpoint}") + (Region is null ? "" : $", region {Region}")
            + (Profile is null ? "" : $", profile {Profile}") + (ForcePathStyle ? ", path-style" : ""),
    };
}
