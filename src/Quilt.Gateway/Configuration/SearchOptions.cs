namespace Quilt.Gateway.Configuration;

/// <summary>
/// The gateway's search index (searchPackages, searchObjects): SQLite beside the gateway's database for one instance,
/// or PostgreSQL full text in the audit.postgres database, shared by every instance. Fed by what the gateway sees
/// (completed uploads, packageConstruct, packagePromote, packageRevisionDelete) and by a periodic reconciliation scan of the
/// buckets its roles grant.
/// </summary>
public sealed class SearchOptions
{
    /// <summary>Whether the gateway answers searches at all (false: the four queries answer an OperationError).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The SQLite index file when audit.postgres is not set; default: beside audit.sqlitePath, ending .search.db.</summary>
    public string? SqlitePath { get; set; }

    /// <summary>Seconds between reconciliation scans of the buckets (objects written behind the gateway's back); 0: never.</summary>
    public int ReconcileIntervalSeconds { get; set; } = 900;

    /// <summary>Whether a scan runs as the gateway starts.</summary>
    public bool ReconcileAtStart { get; set; } = true;

    /// <summary>The most objects one scan lists per bucket (listing is paged; the rest waits for the next scan).</summary>
    public int ReconcileMaxObjects { get; set; } = 100_000;

    /// <summary>The most package revisions one scan reads manifests for per bucket.</summary>
    public int ReconcileMaxRevisions { get; set; } = 10_000;

    /// <summary>Objects up to this size with a text-like extension have their start indexed (at most 64 KiB of it).</summary>
    public long MaxTextObjectBytes { get; set; } = 16L * 1024 * 1024;
}
