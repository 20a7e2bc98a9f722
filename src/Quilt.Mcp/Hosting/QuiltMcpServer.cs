using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Mcp.Resources;
using Quilt.Mcp.Services;
using Quilt.Mcp.Tools;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Mcp.Hosting;

/// <summary>Builds and runs the Quilt MCP server over stdio or Streamable HTTP.</summary>
public static class QuiltMcpServer
{
    public const string Name = "quilt-mcp";

    /// <summary>The version of the tool that hosts the server (the quilt-mcp package), else of this library.</summary>
    public static string Version { get; } =
        (Assembly.GetEntryAssembly() ?? typeof(QuiltMcpServer).Assembly).GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    private const string Instructions =
        "Tools for objects in buckets (S3 or a local folder). Objects are named by s3://bucket/key URIs "
        + "(quilt+s3://bucket#path=key also works). Start with buckets_list, then bucket_objects_list (delimiter '/' for folders). "
        + "Read with bucket_object_text (pages of text; previews of CSV/TSV/JSON/JSONL/Parquet) and get bytes with bucket_object_fetch "
        + "(inline when small, or to a local path). bucket_objects_put, bucket_object_copy and bucket_object_delete change data. "
        + "Quilt packages (versioned, hashed sets of files): package_list, package_revisions, package_browse, package_entry_text, "
        + "package_entry_fetch and package_diff read; package_create, package_patch and package_revision_delete write. "
        + "package_promote copies a revision to another registry; role_switch changes your role on a Quilt registry. "
        + "Tables (CSV/TSV/JSONL/Parquet objects or entries): table_describe, table_rows, and table_query (read-only DuckDB SQL).";

    /// <summary>
    /// Registers the operations and every tool over them. The store and the revision publisher come from
    /// <see cref="Connect"/> over the settings (a local folder, S3, or a Quilt registry server), or the store from
    /// <paramref name="storeFactory"/>, whose revisions are written to it. Add a transport to the returned builder.
    /// </summary>
    public static IMcpServerBuilder AddQuiltMcpServer(this IServiceCollection services, ServerSettings settings, Func<IServiceProvider, IObjectStore>? storeFactory = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(settings);
        services.AddSingleton<OperationSettings>(settings);
        services.AddSingleton(storeFactory is null
            ? (Func<IServiceProvider, StoreConnection>)(_ => Connect(settings))
            : sp => new StoreConnection(storeFactory(sp)));
        services.AddSingleton(sp => sp.GetRequiredService<StoreConnection>().Store);
        // The same wiring the CLI uses (QuiltOperations); a server reads only its own storage: a manifest must not
        // point it at arbitrary files on its machine.
        // The store is resolved as registered, so a host (or a test) may register its own in place of the connection's.
        services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<IObjectStore>();
            var connection = new StoreConnection(store, sp.GetRequiredService<StoreConnection>().Publisher);
            return new QuiltOperations(connection, settings,
                new Quilt.Packages.PackageService(new Quilt.Packages.ObjectLocator([store], allowLocalFilesOutsideStores: false)),
                sp.GetService<ClientRoots>());
        });
        services.AddSingleton(sp => sp.GetRequiredService<QuiltOperations>().Objects);
        services.AddSingleton(sp => sp.GetRequiredService<QuiltOperations>().Packages);
        services.AddSingleton(sp => sp.GetRequiredService<QuiltOperations>().Roles);
        // Tables: the cache and limits from the environment unless a host (or a test) registered its own first.
        services.TryAddSingleton(_ => Quilt.Tables.TableSettings.FromEnvironment());
        services.AddSingleton(sp => Quilt.Tables.TableOperations.Create(sp.GetRequiredService<QuiltOperations>(), sp.GetRequiredService<Quilt.Tables.TableSettings>()));
        services.TryAddSingleton(_ => new Quilt.Operations.Search.SearchSettings());
        services.AddSingleton(sp => Quilt.Operations.Search.SearchOperations.Create(new StoreConnection(sp.GetRequiredService<IObjectStore>(), sp.GetRequiredService<StoreConnection>().Publisher), settings, sp.GetRequiredService<Quilt.Operations.Search.SearchSettings>()));
        return services
            .AddMcpServer(options =>
            {
                options.ServerInfo = new Implementation { Name = Name, Title = "Quilt data in buckets", Version = Version };
                options.ServerInstructions = Instructions;
            })
            .WithHonestCapabilities(settings)
            .WithCataloguedTools<BucketReadTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithCataloguedTools<BucketWriteTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithCataloguedTools<PackageReadTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithCataloguedTools<PackageWriteTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithCataloguedTools<RoleTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithCataloguedTools<TableTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithCataloguedTools<SearchTools>(ToolJson.Options, settings.FullOutputSchemas)
            .WithPrompts<Prompts.QuiltPrompts>(ToolJson.Options)
            .WithCompleteHandler(Completions.ArgumentCompletions.HandleAsync)
            .WithQuiltResources(settings)
            .WithRequestFilters(filters => filters.AddCallToolFilter(ToolCallFilter.Create));
    }

    /// <summary>
    /// The store and publisher the settings name (<see cref="StoreConnection"/>, the composition root). Registry mode: one
    /// token over stdio, or over HTTP the token of the request being served (see <see cref="PassBearerToken"/>).
    /// </summary>
    public static StoreConnection Connect(ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return StoreConnection.Open(settings, settings.IsRegistryMode ? settings.RegistryToken ?? new AmbientRegistryToken() : null);
    }

    /// <summary>
    /// Runs until the client disconnects (stdio: stdin closes), the token is cancelled (Ctrl+C) or the host stops.
    /// <paramref name="configure"/> may add services and tools (such as package tools) before the server starts.
    /// </summary>
    public static Task RunAsync(ServerSettings settings, Action<IServiceCollection, IMcpServerBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Http is null
            ? RunStdioAsync(settings, configure, cancellationToken)
            : RunHttpAsync(settings, settings.Http, configure, cancellationToken);
    }

    private static async Task RunStdioAsync(ServerSettings settings, Action<IServiceCollection, IMcpServerBuilder>? configure, CancellationToken cancellationToken)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        ConfigureLogging(builder.Logging);
        var mcp = builder.Services.AddQuiltMcpServer(settings)
            .WithCappedStreamServerTransport(Console.OpenStandardInput(), new BufferedStream(Console.OpenStandardOutput()), settings.MaxMessageBytes);
        configure?.Invoke(builder.Services, mcp);
        using var host = builder.Build();
        LogStart(host.Services, settings, "stdio");
        await host.RunAsync(cancellationToken);
    }

    /// <summary>
    /// The stdio transport (one JSON-RPC message per line) over <paramref name="input"/> and <paramref name="output"/>,
    /// with a cap on one message: a longer line is read to its end without being kept, answered with a JSON-RPC error
    /// when it was a request (its id is picked out on the way), and the server goes on with the next line. Without the cap,
    /// the SDK's line reader holds a message whole, several times over (a 64 MiB message took the server to 921 MiB).
    /// </summary>
    public static IMcpServerBuilder WithCappedStreamServerTransport(this IMcpServerBuilder builder, Stream input, Stream output, int maxMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageBytes, 1024);
        // The SDK's single-session stdio server, with its transport replaced by one over the capped input.
        builder.WithStdioServerTransport();
        builder.Services.Replace(ServiceDescriptor.Singleton<ITransport>(services =>
        {
            var loggerFactory = services.GetService<ILoggerFactory>();
            var logger = loggerFactory?.CreateLogger(Name) ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
            // The transport starts reading as it is made: the input reaches it only once it exists.
            var transport = new TaskCompletionSource<ITransport>(TaskCreationOptions.RunContinuationsAsynchronously);
            var capped = new CappedLineReadStream(input, maxMessageBytes,
                async (line, ct) => await RefuseOverlongAsync(await transport.Task.ConfigureAwait(false), line, maxMessageBytes, logger, ct).ConfigureAwait(false));
            var created = new StreamServerTransport(capped, output, Name, loggerFactory);
            transport.SetResult(created);
            return created;
        }));
        return builder;
    }

    private static async Task RefuseOverlongAsync(ITransport transport, OverlongLine line, int maxMessageBytes, ILogger logger, CancellationToken cancellationToken)
    {
        var what = line.Method is { } method ? $"A '{method}' message" : "A message";
        var problem = $"{what} of {line.Bytes:N0} bytes is over this server's limit of {maxMessageBytes:N0} bytes for one JSON-RPC message; it was not read. "
            + "Send large content as a file (localPath), or in several smaller calls.";
        logger.LogWarning("{Problem}", problem);
        // A request waits for its answer; a notification (no id) or a response (no method) gets none.
        if (line.Id is not { } id || line.Method is null)
            return;
        var error = new JsonRpcError { Id = id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidRequest, Message = problem } };
        try
        {
            await transport.SendMessageAsync(error, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Could not answer the message that was too long.");
        }
    }

    private static async Task RunHttpAsync(ServerSettings settings, HttpSettings http, Action<IServiceCollection, IMcpServerBuilder>? configure,
        CancellationToken cancellationToken)
    {
        await using var app = BuildHttpApp(settings, http, configure);
        await app.StartAsync(cancellationToken);
        var endpoints = EndpointsOf(app, http);
        LogStart(app.Services, settings, "Streamable HTTP at " + string.Join(", ", endpoints));
        // One plain line that scripts (and the end-to-end tests) can wait for to learn the port.
        await Console.Error.WriteLineAsync($"{Name}: listening on {string.Join(" ", endpoints)}");
        await app.WaitForShutdownAsync(cancellationToken);
    }

    /// <summary>The Streamable HTTP server, built but not started (tests start it on port 0 and read the address).</summary>
    public static WebApplication BuildHttpApp(ServerSettings settings, HttpSettings http, Action<IServiceCollection, IMcpServerBuilder>? configure = null,
        Func<IServiceProvider, IObjectStore>? storeFactory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(http);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        // The same cap on one message as over stdio (Kestrel's own default is 30 MB).
        builder.WebHost.ConfigureKestrel(options => options.Limits.MaxRequestBodySize = settings.MaxMessageBytes);
        builder.WebHost.UseUrls([.. http.Urls]);
        builder.Services.AddRoutingCore();
        ConfigureLogging(builder.Logging);
        // Stateless: each POST is self-contained, so nothing is kept per client and no session can leak between callers.
        var mcp = builder.Services.AddQuiltMcpServer(settings, storeFactory).WithHttpTransport(options => options.Stateless = true);
        builder.Services.AddSingleton<HonestCapabilities.StatelessHttp>();
        if (http.Auth is { } auth)
            McpAuthorization.AddServices(builder.Services, mcp, auth);
        configure?.Invoke(builder.Services, mcp);
        var app = builder.Build();
        app.Use((context, next) => RejectOverlongBodies(context, next, settings.MaxMessageBytes));
        if (!http.AllowRemote)
            app.Use(RejectForeignOrigins);
        if (http.Auth is { } authorization)
            McpAuthorization.Use(app, settings, http, authorization);
        else if (settings.IsRegistryMode)
            app.Use(PassBearerToken);
        app.MapMcp(http.Path);
        return app;
    }

    /// <summary>The MCP endpoint URLs of a started app.</summary>
    public static IReadOnlyList<string> EndpointsOf(WebApplication app, HttpSettings http)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(http);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return addresses.Select(a => a.TrimEnd('/') + http.Path).ToList();
    }

    /// <summary>
    /// A body over the cap is refused with 413 and a sentence saying why: before it is read when its length is given, and
    /// when Kestrel's limit stops it as it is read (a body sent without a length) instead of an error logged as unhandled.
    /// </summary>
    private static async Task RejectOverlongBodies(HttpContext context, Func<Task> next, int maxMessageBytes)
    {
        if (context.Request.ContentLength > maxMessageBytes)
        {
            await RefuseAsync();
            return;
        }
        try
        {
            await next();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await RefuseAsync();
        }

        Task RefuseAsync()
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return context.Response.WriteAsync($"The request body is over this server's limit of {maxMessageBytes:N0} bytes for one JSON-RPC "
                + "message. Send large content as a file (localPath), or in several smaller calls.");
        }
    }

    /// <summary>
    /// Browsers send an Origin header; a page on another site must not drive a server on this machine (DNS rebinding).
    /// Requests without Origin (MCP clients, curl) and from loopback origins pass.
    /// </summary>
    private static Task RejectForeignOrigins(HttpContext context, Func<Task> next)
    {
        if (context.Request.Headers.Origin is [{ } origin, ..]
            && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                 && (uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsync("Cross-origin requests are refused: this server listens for local MCP clients only.");
        }
        return next();
    }

    /// <summary>
    /// Registry mode over HTTP: each request acts with its caller's own Quilt token (Authorization: Bearer …), passed
    /// on to the registry, which decides what that user may do. A request without one is refused with 401.
    /// </summary>
    private static async Task PassBearerToken(HttpContext context, Func<Task> next)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        var token = header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? header[Bearer.Length..].Trim() : "";
        if (token.Length == 0)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsync(
                "This server works through a Quilt registry: send your Quilt token as 'Authorization: Bearer <token>'.");
            return;
        }
        using (AmbientRegistryToken.Use(token))
            await next();
    }

    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        // stdout carries the MCP stream over stdio: every log line goes to stderr.
        logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss ";
        });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("ModelContextProtocol", LogLevel.Warning);
    }

    /// <summary>Where the data is, for the start-up log line; never credentials.</summary>
    private static string Describe(ServerSettings settings) => settings.RegistryUrl is { } registry
        ? $"Quilt registry at {registry}"
        : Describe(settings.Storage);

    private static string Describe(StorageSettings storage) => storage.Kind switch
    {
        StorageKind.S3 => "S3" + (storage.EndpointUrl is null ? "" : $" at {storage.EndpointUrl}") + (storage.Region is null ? "" : $", region {storage.Region}")
            + (storage.Profile is null ? "" : $", profile {storage.Profile}"),
        _ => $"local folder {storage.LocalRoot ?? StorageSettings.DefaultLocalRoot}",
    };

    private static void LogStart(IServiceProvider services, ServerSettings settings, string transport)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(Name);
        if (!logger.IsEnabled(LogLevel.Information))
            return;
        logger.LogInformation(
            "{Name} {Version} serving {Transport}; storage: {Storage}; buckets: {Buckets}; {Mode}",
            Name, Version, transport, Describe(settings),
            settings.AllowedBuckets.Count == 0 ? "any" : string.Join(",", settings.AllowedBuckets),
            settings.ReadOnly ? "read-only" : "read-write");
    }
}
