using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Services;
using Quilt.Gateway.Storage;

namespace Quilt.Gateway.Http;

/// <summary>What GET /readyz reports: ready when S3 and the database answer; each check "ok" or "failed".</summary>
public sealed record ReadinessReport(bool Ready, IReadOnlyDictionary<string, string> Checks);

/// <summary>
/// GET /readyz: S3 (every configured bucket, listed with the S3 identity of a role granting it) and the database answer.
/// Anonymous and unaudited, so the result is cached for two seconds and computed by one request at a time: a flood of
/// probes costs S3 and the database at most one round every two seconds. The answer says which check failed, not why
/// (that goes to the log): anyone can ask.
/// </summary>
public sealed partial class Readiness(GatewayOptions options, S3Access s3, SqlGatewayStore store, TimeProvider time, ILogger<Readiness> logger) : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset At, ReadinessReport Report)? _last;

    public async Task<ReadinessReport> CheckAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } cached)
            return cached;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } again)
                return again;
            // Not the caller's token: a probe that left early must not leave a half-made answer for the next one.
            var report = await RunAsync(CancellationToken.None).ConfigureAwait(false);
            _last = (time.GetUtcNow(), report);
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    private ReadinessReport? Fresh() => _last is { } last && time.GetUtcNow() - last.At < CacheFor ? last.Report : null;

    private async Task<ReadinessReport> RunAsync(CancellationToken cancellationToken)
    {
        var s3Probes = GatewayProbes.S3Targets(options, everyRole: false)
            .Select(t => GatewayProbes.S3Async(s3, t.Role, t.Bucket, GatewayProbes.DefaultTimeout, cancellationToken)).ToList();
        var database = GatewayProbes.DatabaseAsync(store, options, GatewayProbes.DefaultTimeout, cancellationToken);
        var s3Results = await Task.WhenAll(s3Probes).ConfigureAwait(false);
        var databaseResult = await database.ConfigureAwait(false);
        foreach (var failed in s3Results.Append(databaseResult).Where(r => !r.Ok))
            LogProbeFailed(logger, failed.Name, failed.Detail);
        var checks = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["s3"] = s3Results.All(r => r.Ok) ? "ok" : "failed",
            ["database"] = databaseResult.Ok ? "ok" : "failed",
        };
        return new ReadinessReport(checks.Values.All(v => v == "ok"), checks);
    }

    public static async Task HandleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var report = await http.RequestServices.GetRequiredService<Readiness>().CheckAsync(http.RequestAborted);
        http.Response.StatusCode = report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        var checks = new Dictionary<string, object> { ["status"] = report.Ready ? "ready" : "not ready", ["checks"] = report.Checks };
        await JsonSerializer.SerializeAsync(http.Response.Body, checks, cancellationToken: http.RequestAborted);
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness: {Probe} failed: {Detail}")]
    private static partial void LogProbeFailed(ILogger logger, string probe, string detail);
}
