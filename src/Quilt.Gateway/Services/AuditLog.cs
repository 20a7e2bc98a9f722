using System.Text.Json.Nodes;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Services;

/// <summary>
/// Writes the audit trail. A line is written before the thing it records is handed out, so a failure to audit fails
/// the request rather than leaving an unrecorded URL or session.
/// </summary>
public sealed class AuditLog(IAuditStore store, TimeProvider time)
{
    public IAuditStore Store { get; } = store;

    public Task<long> AllowedAsync(Caller caller, string action, string? target, JsonObject? details = null, CancellationToken cancellationToken = default) =>
        WriteAsync(caller.Subject, caller.Role, action, target, AuditOutcome.Allowed, details, caller.ClientAddress, cancellationToken);

    public Task<long> DeniedAsync(Caller caller, string action, string? target, string reason, JsonObject? details = null, CancellationToken cancellationToken = default) =>
        WriteAsync(caller.Subject, caller.Role, action, target, AuditOutcome.Denied, With(details, "reason", reason), caller.ClientAddress, cancellationToken);

    public Task<long> FailedAsync(Caller caller, string action, string? target, string reason, JsonObject? details = null, CancellationToken cancellationToken = default) =>
        WriteAsync(caller.Subject, caller.Role, action, target, AuditOutcome.Failed, With(details, "reason", reason), caller.ClientAddress, cancellationToken);

    // What an anonymous refusal may put in the trail: anyone can send these, so no field is larger than this.
    internal const int MaxRefusedPathLength = 256;
    internal const int MaxRefusedReasonLength = 300;
    internal const int MaxClaimedSubjectLength = 128;

    /// <summary>
    /// A request refused before any user was known (<paramref name="action"/> "token": no or bad token; or a part URL
    /// with a wrong secret); every field is cut to a small bound.
    /// </summary>
    public Task<long> AnonymousRefusedAsync(string action, string? claimedSubject, string reason, string? clientAddress, string? path, CancellationToken cancellationToken = default) =>
        WriteAsync("anonymous", null, action, Bound(path, MaxRefusedPathLength), AuditOutcome.Denied,
            SqlGatewayStore.Details(("reason", Bound(reason, MaxRefusedReasonLength)), ("claimedSubject", Bound(claimedSubject, MaxClaimedSubjectLength))),
            clientAddress, cancellationToken);

    /// <summary><paramref name="value"/> cut to <paramref name="max"/> characters, marked with "…" when cut.</summary>
    internal static string? Bound(string? value, int max)
    {
        if (value is null || value.Length <= max)
            return value;
        var keep = max - 1;
        // Never split a surrogate pair: half of one is not text (and JSON refuses it).
        if (char.IsHighSurrogate(value[keep - 1]))
            keep--;
        return string.Concat(value.AsSpan(0, keep), "…");
    }

    public Task<long> WriteAsync(string subject, string? role, string action, string? target, string outcome, JsonObject? details, string? clientAddress, CancellationToken cancellationToken)
    {
        details ??= new JsonObject();
        if (clientAddress is not null)
            details["client"] = clientAddress;
        return Store.AppendAsync(new AuditRecord(time.GetUtcNow(), subject, role, action, target, outcome, details.Count == 0 ? null : details), cancellationToken);
    }

    private static JsonObject With(JsonObject? details, string key, string value)
    {
        details ??= new JsonObject();
        details[key] = value;
        return details;
    }
}
