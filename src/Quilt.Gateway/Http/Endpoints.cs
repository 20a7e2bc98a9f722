using System.Globalization;
using System.Text.Json;
using GraphQL;
using GraphQL.Transport;
using GraphQL.Types;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.GraphQL;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Services;
using Quilt.Gateway.Storage;
using Quilt.Storage;

namespace Quilt.Gateway.Http;

/// <summary>
/// The HTTP surface: every request's bearer token is verified first (failures answer 401 and are audited), then
/// POST /graphql runs an operation and GET /browse/{session}/{path} downloads an object inside a browsing session.
/// </summary>
public static partial class Endpoints
{
    private const string CallerItem = "quilt-gateway.caller";

    /// <summary>Verifies the token and resolves the caller's role before anything else runs.</summary>
    public static async Task AuthenticateAsync(HttpContext http, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(next);
        var services = http.RequestServices;
        // Endpoints marked anonymous need no token: GET /healthz (not audited) and part URLs, which carry their upload's secret.
        if (http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            await next();
            return;
        }
        var authenticator = services.GetRequiredService<JwtAuthenticator>();
        var client = http.Connection.RemoteIpAddress?.ToString();
        var header = http.Request.Headers.Authorization.ToString();
        var result = ApiKeys.ApiKeyService.IsApiKeyHeader(header)
            ? await services.GetRequiredService<ApiKeys.ApiKeyService>().AuthenticateAsync(header, http.RequestAborted)
            : await authenticator.AuthenticateAsync(header, http.RequestAborted);
        if (!result.Succeeded)
        {
            var path = RequestLog.SafePath(http.Request);
            var recorded = await services.GetRequiredService<RefusalAudit>().RecordAsync("token", result.ClaimedSubject, result.Reason!, http.Connection.RemoteIpAddress, path, CancellationToken.None);
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Quilt.Gateway.Auth");
            // Logged as often as audited, so a flood of bad requests floods neither.
            if (recorded && logger.IsEnabled(LogLevel.Information))
            {
                var reason = AuditLog.Bound(result.Reason, AuditLog.MaxRefusedReasonLength)!;
                LogRefused(logger, path, reason);
            }
            if (result.NoRole)
            {
                // A valid token without a role: signing in again gives the same token, so this is 403, not 401.
                await WriteErrorAsync(http, StatusCodes.Status403Forbidden, GatewayException.Forbidden, $"Not allowed: {result.Reason}.");
                return;
            }
            http.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            await WriteErrorAsync(http, StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", $"Not authenticated: {result.Reason}.");
            return;
        }
        // Sidecar mode: Quilt's own operations go to the upstream registry (no role needed); the rest is served here.
        if (services.GetService<UpstreamRegistry>() is { } upstream)
        {
            if (await upstream.TryForwardAsync(http))
                return;
            if (upstream.RolesFromUpstream)
            {
                if (await upstream.CallerAsync(http, result.User!) is not { } fromUpstream)
                    return;
                http.Items[CallerItem] = fromUpstream;
                await next();
                return;
            }
        }
        var role = await services.GetRequiredService<RoleService>().ActiveRoleAsync(result.User!, http.RequestAborted);
        http.Items[CallerItem] = new Caller(result.User!, role, client);
        await next();
    }

    private static Caller CallerOf(HttpContext http) => (Caller)http.Items[CallerItem]!;

    public static async Task GraphQLAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var services = http.RequestServices;
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            http.Response.Headers.Allow = "POST";
            await WriteErrorAsync(http, StatusCodes.Status405MethodNotAllowed, "METHOD_NOT_ALLOWED", "POST a JSON body {\"query\": ..., \"variables\": ...} to /graphql.");
            return;
        }
        if (!http.Request.HasJsonContentType())
        {
            await WriteErrorAsync(http, StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Send Content-Type: application/json.");
            return;
        }
        var serializer = services.GetRequiredService<IGraphQLTextSerializer>();
        GraphQLRequest? request;
        try
        {
            request = await serializer.ReadAsync<GraphQLRequest>(http.Request.Body, http.RequestAborted);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException)
        {
            await WriteErrorAsync(http, StatusCodes.Status400BadRequest, "BAD_REQUEST", "The body is not a GraphQL request: send {\"query\": \"...\", \"variables\": {...}}.");
            return;
        }
        if (request?.Query is not { Length: > 0 })
        {
            await WriteErrorAsync(http, StatusCodes.Status400BadRequest, "BAD_REQUEST", "The request has no query.");
            return;
        }

        var limits = services.GetRequiredService<QueryLimits>();
        if (limits.Check(request.Query, out var document) is { } tooCostly)
        {
            await WriteErrorAsync(http, StatusCodes.Status400BadRequest, "QUERY_TOO_LARGE", tooCostly);
            return;
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Quilt.Gateway.GraphQL");
        var timeoutSeconds = services.GetRequiredService<GatewayOptions>().GraphQL.TimeoutSeconds;
        // Ends the work when the client goes away or the request runs past the limit, whichever comes first.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        ExecutionResult result;
        try
        {
            result = await services.GetRequiredService<IDocumentExecuter>().ExecuteAsync(new ExecutionOptions
            {
                Schema = services.GetRequiredService<ISchema>(),
                Query = request.Query,
                Document = document,
                ValidationRules = limits.ValidationRules,
                Variables = request.Variables,
                Extensions = request.Extensions,
                OperationName = request.OperationName,
                UserContext = new GatewayContext(CallerOf(http)) { PartUrlBase = PublicBaseUrl(http) },
                RequestServices = services,
                CancellationToken = deadline.Token,
                UnhandledExceptionDelegate = context =>
                {
                    LogUnhandled(logger, context.Exception, context.FieldContext?.FieldDefinition.Name);
                    return Task.CompletedTask;
                },
            });
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            await WriteErrorAsync(http, StatusCodes.Status504GatewayTimeout, "TIMEOUT",
                $"The request ran longer than this gateway's limit of {timeoutSeconds} s (graphql.timeoutSeconds) and was stopped. " +
                "Ask for less at once (fewer fields, smaller pages), or try again.");
            return;
        }
        http.Response.StatusCode = result.Executed ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest;
        http.Response.ContentType = "application/json; charset=utf-8";
        await serializer.WriteAsync(http.Response.Body, result, http.RequestAborted);
    }

    /// <summary>
    /// GET /browse/{session}/{path}[?versionId=…]: streams an object (or one version of it) inside the session's scope,
    /// honouring a single Range.
    /// </summary>
    public static async Task BrowseAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var services = http.RequestServices;
        var caller = CallerOf(http);
        var id = http.GetRouteValue("id") as string ?? "";
        var path = http.GetRouteValue("path") as string ?? "";
        var browsing = services.GetRequiredService<BrowsingService>();
        ScopedObject scoped;
        try
        {
            var versionId = http.Request.Query["versionId"].ToString();
            scoped = await browsing.ResolveAsync(caller, "download", id, path, http.RequestAborted, versionId.Length == 0 ? null : versionId);
        }
        catch (GatewayException ex)
        {
            await WriteErrorAsync(http, StatusFor(ex.Code), ex.Code, ex.Message);
            return;
        }

        var store = services.GetRequiredService<S3Access>().StoreFor(scoped.Role);
        ObjectInfo info;
        try
        {
            info = await store.HeadAsync(scoped.Object, http.RequestAborted);
        }
        catch (Exception ex) when (ex is ObjectNotFoundException or BucketNotFoundException)
        {
            await WriteErrorAsync(http, StatusCodes.Status404NotFound, GatewayException.NotFound, ex.Message);
            return;
        }
        var obj = scoped.Object with { VersionId = scoped.Object.VersionId ?? info.VersionId };
        var range = ParseRange(http.Request.Headers.Range.ToString(), info.Size, out var unsatisfiable);
        if (unsatisfiable)
        {
            http.Response.Headers.ContentRange = $"bytes */{info.Size}";
            await WriteErrorAsync(http, StatusCodes.Status416RangeNotSatisfiable, "RANGE_NOT_SATISFIABLE", $"The object has {info.Size} bytes; ask for a range inside it.");
            return;
        }

        var audit = services.GetRequiredService<AuditLog>();
        await audit.AllowedAsync(caller with { Role = scoped.Role }, "download", obj.ToString(),
            SqlGatewayStore.Details(("session", scoped.Session.IdHash[..16]), ("scope", scoped.Session.Scope),
                ("range", range is { } r ? $"{r.Offset}-{r.Offset + r.Length - 1}" : null), ("size", info.Size)),
            http.RequestAborted);

        var response = http.Response;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = info.ETag is null ? default : (info.ETag.StartsWith('"') ? info.ETag : $"\"{info.ETag}\"");
        response.Headers.LastModified = info.LastModified.ToString("R", CultureInfo.InvariantCulture);
        // User content from the gateway's own origin: never sniffed, never scripted.
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "sandbox";
        response.ContentType = info.ContentType ?? "application/octet-stream";
        if (info.VersionId is not null)
            response.Headers["x-amz-version-id"] = info.VersionId;
        ByteRange? byteRange = null;
        if (range is { } part)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {part.Offset}-{part.Offset + part.Length - 1}/{info.Size}";
            response.ContentLength = part.Length;
            byteRange = new ByteRange(part.Offset, part.Length);
        }
        else
        {
            response.ContentLength = info.Size;
        }
        if (HttpMethods.IsHead(http.Request.Method) || info.Size == 0)
            return;
        var stream = await store.OpenReadAsync(obj, byteRange, http.RequestAborted);
        await using (stream)
            await stream.CopyToAsync(response.Body, 1 << 16, http.RequestAborted);
    }

    /// <summary>
    /// PUT /uploads/{id}/parts/{number}?secret=…: one part of a multipart upload, authorised by its URL (no token, as
    /// an S3 part URL). The body is streamed to S3 UploadPart with exactly the part's length and none of the request's
    /// headers; the answer carries the ETag to complete with. Errors are S3-style XML, so S3 clients show the message.
    /// </summary>
    public static async Task UploadPartAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var uploads = http.RequestServices.GetRequiredService<UploadService>();
        var id = http.GetRouteValue("id") as string ?? "";
        var number = int.TryParse(http.GetRouteValue("number") as string, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var client = http.Connection.RemoteIpAddress?.ToString();
        try
        {
            var plan = await uploads.AuthorizePartAsync(id, number, http.Request.Query["secret"].ToString(), http.Request.ContentLength, client, http.RequestAborted);
            // The global limit is for GraphQL documents; a part may be up to 5 GiB, and its length is already exact.
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = plan.Size;
            var etag = await uploads.StorePartAsync(plan, http.Request.Body, client, http.RequestAborted);
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.Headers.ETag = etag;
        }
        catch (GatewayException ex)
        {
            // A client that went away hears nothing.
            if (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted)
                await WriteS3ErrorAsync(http, StatusFor(ex.Code), ex.Code, ex.Message);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away before its part was checked.
        }
    }

    private static async Task WriteS3ErrorAsync(HttpContext http, int status, string code, string message)
    {
        var s3Code = code switch
        {
            GatewayException.Forbidden => "AccessDenied",
            GatewayException.NotFound => "NoSuchUpload",
            GatewayException.BadRequest => "InvalidRequest",
            _ => "InternalError",
        };
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/xml";
        var xml = new System.Xml.Linq.XDocument(new System.Xml.Linq.XElement("Error",
            new System.Xml.Linq.XElement("Code", s3Code), new System.Xml.Linq.XElement("Message", message)));
        await http.Response.WriteAsync(xml.ToString(System.Xml.Linq.SaveOptions.DisableFormatting), http.RequestAborted);
    }

    /// <summary>The gateway's address as the client sees it: publicUrl when configured (behind a proxy), else this request's.</summary>
    private static string PublicBaseUrl(HttpContext http)
    {
        if (http.RequestServices.GetRequiredService<Configuration.GatewayOptions>().PublicUrl is { Length: > 0 } configured)
            return configured.TrimEnd('/');
        var request = http.Request;
        var host = request.Host.HasValue ? request.Host.Value : $"{http.Connection.LocalIpAddress}:{http.Connection.LocalPort}";
        return $"{request.Scheme}://{host}{request.PathBase}";
    }

    /// <summary>A single "bytes=" range as (offset, length); null for none, several or malformed ones (the whole object is sent).</summary>
    internal static (long Offset, long Length)? ParseRange(string header, long size, out bool unsatisfiable)
    {
        unsatisfiable = false;
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
            return null;
        var spec = header["bytes=".Length..].Trim();
        if (spec.Contains(',', StringComparison.Ordinal))
            return null;
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
            return null;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix))
                return null;
            if (suffix == 0 || size == 0)
            {
                unsatisfiable = true;
                return null;
            }
            var n = Math.Min(suffix, size);
            return (size - n, n);
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return null;
        long end = size - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)
                return null;
            end = Math.Min(end, size - 1);
        }
        if (start >= size)
        {
            unsatisfiable = true;
            return null;
        }
        return (start, end - start + 1);
    }

    private static int StatusFor(string code) => code switch
    {
        GatewayException.Forbidden => StatusCodes.Status403Forbidden,
        GatewayException.NotFound => StatusCodes.Status404NotFound,
        GatewayException.BadRequest => StatusCodes.Status400BadRequest,
        GatewayException.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status502BadGateway,
    };

    public static async Task WriteErrorAsync(HttpContext http, int status, string code, string message)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        var body = new { errors = new[] { new { message, extensions = new { code } } } };
        await JsonSerializer.SerializeAsync(http.Response.Body, body, cancellationToken: http.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a request to {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string? path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure resolving {Field}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string? field);
}
