using System.Text.Json.Nodes;

namespace Quilt.Gateway.Data;

public static class AuditOutcome
{
    public const string Allowed = "allowed";
    public const string Denied = "denied";
    public const string Failed = "failed";
}

/// <summary>One line to append to the audit trail. <see cref="Details"/> holds limits and reasons, never a token.</summary>
public sealed record AuditRecord(
    DateTimeOffset Time, string Subject, string? Role, string Action, string? Target, string Outcome, JsonObject? Details = null);

/// <summary>A stored audit line with its increasing id.</summary>
public sealed record AuditEvent(
    long Id, DateTimeOffset Time, string Subject, string? Role, string Action, string? Target, string Outcome, JsonObject? Details);

public sealed record AuditQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public string? Subject { get; init; }
    public string? Action { get; init; }
    public long? AfterId { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>The append-only audit trail: lines are added and read, never changed or removed.</summary>
public interface IAuditStore
{
    Task<long> AppendAsync(AuditRecord record, CancellationToken cancellationToken = default);

    /// <summary>Lines matching the query, oldest first.</summary>
    Task<IReadOnlyList<AuditEvent>> ReadAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>
/// A browsing session as stored: the id is kept only as its SHA-256, so a copy of the database hands out no sessions.
/// Scope is a bucket prefix (<see cref="Prefix"/>, "" for the whole bucket), one object (<see cref="Key"/>), or a
/// package revision (<see cref="PackageName"/> at <see cref="TopHash"/>).
/// </summary>
public sealed record BrowsingSessionRecord(
    string IdHash, string Subject, string Role, string Scope, string Bucket, string? Prefix, string? Key,
    string? PackageName, string? TopHash, DateTimeOffset Created, DateTimeOffset Expires);

/// <summary>
/// A multipart upload the gateway started and has not completed or aborted yet. <see cref="PartSecretHash"/> is the
/// SHA-256 (hex) of the secret in its part URLs, so a copy of the database hands out no part URLs; null for uploads
/// recorded before parts went through the gateway (those cannot take parts).
/// </summary>
public sealed record MultipartUploadRecord(
    string Id, string Subject, string Role, string Bucket, string Key, string S3UploadId, long Size, long PartSize,
    string? ContentType, DateTimeOffset Created, DateTimeOffset Expires, string? PartSecretHash = null);

/// <summary>A part the gateway streamed to S3 itself: its number, the bytes it sent and the ETag S3 answered (the MD5 of those bytes).</summary>
public sealed record UploadedPartRecord(int PartNumber, long Size, string ETag);

/// <summary>State shared by every instance of the gateway: role choices, secrets, browsing sessions, uploads in progress.</summary>
public interface IStateStore
{
    Task<string?> GetActiveRoleAsync(string subject, CancellationToken cancellationToken = default);
    Task SetActiveRoleAsync(string subject, string role, DateTimeOffset time, CancellationToken cancellationToken = default);

    /// <summary>
    /// The gateway's secret called <paramref name="name"/>: the one already stored, else <paramref name="candidate"/>,
    /// stored now. Several instances starting at once all get the same one.
    /// </summary>
    Task<string> GetOrAddSecretAsync(string name, string candidate, DateTimeOffset time, CancellationToken cancellationToken = default);

    Task CreateSessionAsync(BrowsingSessionRecord session, CancellationToken cancellationToken = default);
    Task<BrowsingSessionRecord?> GetSessionAsync(string idHash, CancellationToken cancellationToken = default);
    Task<bool> SetSessionExpiryAsync(string idHash, DateTimeOffset expires, CancellationToken cancellationToken = default);
    Task<bool> DeleteSessionAsync(string idHash, CancellationToken cancellationToken = default);

    /// <summary>Removes sessions that expired before <paramref name="before"/>; returns how many.</summary>
    Task<int> DeleteExpiredSessionsAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    Task CreateUploadAsync(MultipartUploadRecord upload, CancellationToken cancellationToken = default);
    Task<MultipartUploadRecord?> GetUploadAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Removes the record and its parts; false when it was already gone (another request finished it first).</summary>
    Task<bool> DeleteUploadAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Records (or replaces) a part of an upload in progress; false when the upload is gone.</summary>
    Task<bool> RecordPartAsync(string uploadId, UploadedPartRecord part, CancellationToken cancellationToken = default);

    /// <summary>The parts recorded for an upload, by part number.</summary>
    Task<IReadOnlyList<UploadedPartRecord>> GetPartsAsync(string uploadId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<MultipartUploadRecord>> ExpiredUploadsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);
}

