using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Quilt.Gateway.Http;

/// <summary>
/// One log line per request, in place of ASP.NET's own request logs (which print the whole URL: a browsing session id
/// in the path and whatever a client put in the query string, such as ?token=eyJ…). Paths are shown by
/// <see cref="SafePath"/> only.
/// </summary>
public static partial class RequestLog
{
    public const string Category = "Quilt.Gateway.Requests";

    /// <summary>Longest path shown; the rest is cut (anyone can send a long one).</summary>
    public const int MaxPathLength = 256;

    /// <summary>
    /// ASP.NET categories that log request paths or URLs: hosting's "Request starting/finished" lines (Information)
    /// and its request scope, routing's candidate matching and Kestrel's bad-request lines (Debug). They are kept
    /// quiet below these levels.
    /// </summary>
    internal static readonly (string Category, LogLevel Level)[] QuietCategories =
    [
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None),
        ("Microsoft.AspNetCore.Routing", LogLevel.Information),
        ("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Information),
    ];

    /// <summary>Logs the request once it is answered: method, safe path, status, time taken.</summary>
    public static async Task LogAsync(HttpContext http, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(next);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next();
        }
        finally
        {
            var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
            // Health probes come every few seconds: worth a line only when debugging.
            var level = http.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase)
                || http.Request.Path.StartsWithSegments("/readyz", StringComparison.OrdinalIgnoreCase) ? LogLevel.Debug : LogLevel.Information;
            if (logger.IsEnabled(level))
            {
                var path = SafePath(http.Request);
                // 499 (as nginx logs it): the client went away before the answer was complete.
                var status = http.RequestAborted.IsCancellationRequested ? 499 : http.Response.StatusCode;
                var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                LogAnswered(logger, level, http.Request.Method, path, status, elapsedMs);
            }
        }
    }

    /// <summary>The request's path as logs and the audit trail may show it: see <see cref="SafePath(string?, bool)"/>.</summary>
    public static string SafePath(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SafePath(request.Path.Value, request.QueryString.HasValue);
    }

    /// <summary>
    /// <paramref name="path"/> with the session id of /browse/{session}/… replaced by "{session}", any segment that looks
    /// like a JWT or a Quilt API key (qk_…) by "{token}", the query string (when there is one) by "?…", and cut to <see cref="MaxPathLength"/>.
    /// </summary>
    public static string SafePath(string? path, bool hasQuery)
    {
        path ??= "";
        var text = new StringBuilder(Math.Min(path.Length, MaxPathLength) + 16);
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length && text.Length <= MaxPathLength; i++)
        {
            if (i > 0)
                text.Append('/');
            var segment = segments[i];
            // Routing matches "/browse" in any case, so the mask does too.
            if (i == 2 && string.Equals(segments[1], "browse", StringComparison.OrdinalIgnoreCase))
                text.Append("{session}");
            else if (LooksLikeJwt(segment))
                text.Append("{token}");
            else
                text.Append(segment);
        }
        var safe = text.Length > MaxPathLength ? Services.AuditLog.Bound(text.ToString(), MaxPathLength)! : text.ToString();
        return hasQuery ? safe + "?…" : safe;
    }

    private static bool LooksLikeJwt(string segment) =>
        (segment.StartsWith("eyJ", StringComparison.Ordinal) && segment.Contains('.', StringComparison.Ordinal))
        || segment.StartsWith(ApiKeys.ApiKeyService.Prefix, StringComparison.Ordinal);

    [LoggerMessage(Message = "{Method} {Path} answered {Status} in {ElapsedMs:0.0} ms")]
    private static partial void LogAnswered(ILogger logger, LogLevel level, string method, string path, int status, double elapsedMs);
}
