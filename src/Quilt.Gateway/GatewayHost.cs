using GraphQL;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.GraphQL;
using Quilt.Gateway.Http;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Services;
using Quilt.Gateway.Storage;

namespace Quilt.Gateway;

/// <summary>Builds and runs the gateway: used by the command line and, in-process, by the tests and the benchmark.</summary>
public static partial class GatewayHost
{
    /// <summary>The audit/state store the options name: PostgreSQL when a connection string is set, else SQLite.</summary>
    public static SqlGatewayStore CreateStore(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.Audit.Postgres)
            ? new SqliteGatewayStore(options.Audit.SqlitePath, options.Audit.SqliteDurable)
            : new PostgresGatewayStore(options.Audit.Postgres);
    }

    /// <summary>
    /// Validates the options, prepares the database and the token keys, and returns the web application (not started).
    /// Throws <see cref="GatewayConfigurationException"/> naming every problem.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(
        GatewayOptions options, Action<ILoggingBuilder>? configureLogging = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        OptionsValidator.Validate(options);
        time ??= TimeProvider.System;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(options.Listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        if (configureLogging is not null)
            configureLogging(builder.Logging);
        else
            GatewayLogging.Configure(builder.Logging, options.Logging);
        // After the caller's settings, so that no level asked for there brings back ASP.NET's lines that print request
        // URLs (tokens in query strings, session ids in paths); RequestLog logs each request with its secrets masked.
        foreach (var (category, level) in RequestLog.QuietCategories)
            builder.Logging.AddFilter(category, level);

        var store = CreateStore(options);
        try
        {
            await store.InitializeAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await store.DisposeAsync();
            var where = store is PostgresGatewayStore ? "the PostgreSQL database (audit.postgres)" : $"the SQLite database {options.Audit.SqlitePath}";
            throw new GatewayConfigurationException([$"Could not open {where}: {ex.Message}"]);
        }

        ListingCursors cursors;
        try
        {
            cursors = await ListingCursors.CreateAsync(options, store, time, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await store.DisposeAsync();
            throw new GatewayConfigurationException([$"Could not read or store the listing cursor secret in the database: {ex.Message}"]);
        }

        SearchIndexHolder searchIndex;
        try
        {
            searchIndex = await Search.SearchIndexes.OpenAsync(options, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await store.DisposeAsync();
            throw new GatewayConfigurationException([$"Could not open the search index: {ex.Message}"]);
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(cursors);
        services.AddSingleton(new QueryLimits(options.GraphQL));
        services.AddSingleton<RefusalAudit>();
        services.AddSingleton(time);
        services.AddSingleton(store);
        services.AddSingleton<IAuditStore>(store);
        services.AddSingleton<IStateStore>(store);
        services.AddSingleton<IApiKeyStore>(store);
        services.AddSingleton<ApiKeys.ApiKeyService>();
        services.AddSingleton<RolePolicy>();
        services.AddSingleton<S3Access>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<JwtAuthenticator>();
        services.AddSingleton<RoleService>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<BrowsingService>();
        services.AddSingleton<ObjectService>();
        services.AddSingleton<PackageGatewayService>();
        services.AddSingleton<PackageRevisionService>();
        services.AddSingleton<RevisionPublisher>();
        services.AddSingleton(sp => new GatewayServices(
            sp.GetRequiredService<RoleService>(), sp.GetRequiredService<UploadService>(), sp.GetRequiredService<BrowsingService>(),
            sp.GetRequiredService<ObjectService>(), sp.GetRequiredService<PackageGatewayService>(), sp.GetRequiredService<AuditLog>()));
        services.AddSingleton(sp => GatewaySchema.Build(sp.GetRequiredService<GatewayServices>(), options.Uploads.Enabled));
        services.AddSingleton<IDocumentExecuter, DocumentExecuter>();
        services.AddSingleton<IGraphQLTextSerializer, GraphQLSerializer>();
        services.AddHostedService<Sweeper>();
        if (options.Upstream.IsSet)
            services.AddSingleton<UpstreamRegistry>();
        services.AddSingleton<Readiness>();
        services.AddSingleton(searchIndex);
        services.AddSingleton<SearchFeed>();
        services.AddSingleton<SearchService>();
        services.AddSingleton<SearchReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<SearchReconciler>());

        var app = builder.Build();
        await app.Services.GetRequiredService<JwtAuthenticator>().InitializeAsync(cancellationToken);
        // Built now, so a schema problem stops the start rather than the first request.
        app.Services.GetRequiredService<ISchema>();

        app.Use((http, next) => RequestLog.LogAsync(http, () => next(http)));
        app.Use((http, next) => Endpoints.AuthenticateAsync(http, () => next(http)));
        // For load balancers and orchestrators: no token, no audit line, no work.
        app.MapGet("/healthz", () => Results.Text("ok\n", "text/plain")).AllowAnonymous();
        // Readiness: S3 and the database answer (cached briefly, anonymous, not audited).
        app.MapGet("/readyz", Readiness.HandleAsync).AllowAnonymous();
        app.Map("/graphql", Endpoints.GraphQLAsync);
        app.MapMethods("/browse/{id}/{**path}", ["GET", "HEAD"], Endpoints.BrowseAsync);
        // Authorised by the URL's secret, not a token: clients PUT parts as they would to S3 part URLs.
        app.MapPut("/uploads/{id}/parts/{number}", Endpoints.UploadPartAsync).AllowAnonymous();
        await OAuth.OAuthServer.MapAsync(app, options, cancellationToken);
        app.MapFallback(http => Endpoints.WriteErrorAsync(http, StatusCodes.Status404NotFound, "NOT_FOUND",
            "Nothing here: POST /graphql for the API, GET /browse/{session}/{path} for downloads."));
        return app;
    }

    /// <summary>The addresses a started application listens on (with the real port when 0 was asked for).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
    }

    /// <summary>Aborts multipart uploads past their expiry, forgets sessions expired for a day, writes counted refusals.</summary>
    private sealed partial class Sweeper(GatewayOptions options, UploadService uploads, IStateStore state, RefusalAudit refusals, TimeProvider time, ILogger<Sweeper> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Uploads.SweepIntervalSeconds), time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await uploads.AbortExpiredAsync(stoppingToken);
                    await state.DeleteExpiredSessionsAsync(time.GetUtcNow().AddDays(-1), stoppingToken);
                    await refusals.FlushAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSweepFailed(logger, ex);
                }
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Cleaning up expired uploads and sessions failed; will try again")]
        private static partial void LogSweepFailed(ILogger logger, Exception exception);
    }
}
