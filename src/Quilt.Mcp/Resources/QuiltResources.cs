using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Mcp.Tools;
using Quilt.Operations;
using Quilt.Storage;

namespace Quilt.Mcp.Resources;

/// <summary>
/// The server's resources: objects, package entries and summaries by URI template, the static quilt-mcp:// resources,
/// subscriptions (where the transport can notify), and the get_resource tool that reads the same.
/// </summary>
public static class QuiltResources
{
    /// <summary>
    /// Registers the resource handlers and get_resource. Subscriptions are offered over stdio only: a stateless HTTP
    /// server has no channel to send a later notification on, so there it refuses resources/subscribe and says why.
    /// </summary>
    public static IMcpServerBuilder WithQuiltResources(this IMcpServerBuilder builder, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var services = builder.Services;
        // A host (or a test) may register its own options first.
        services.TryAddSingleton(new ResourceSubscriptionOptions());
        services.AddSingleton(sp => new ResourceOperations(sp.GetRequiredService<ObjectOperations>(), sp.GetRequiredService<PackageOperations>()));
        services.AddSingleton<ResourceReader>();
        services.AddSingleton<ResourceSubscriptions>();
        var canNotify = settings.Http is null;

        builder
            .WithListResourcesHandler((request, ct) => Mapped(request, () => Reader(request).ListAsync(request.Params?.Cursor, ct)))
            .WithListResourceTemplatesHandler((_, _) => ValueTask.FromResult(new ListResourceTemplatesResult { ResourceTemplates = [.. ResourceReader.Templates] }))
            .WithReadResourceHandler((request, ct) => Mapped(request, async () =>
                new ReadResourceResult { Contents = [await Reader(request).ReadAsync(request.Params?.Uri, ct)] }))
            .WithSubscribeToResourcesHandler((request, ct) => Mapped(request, async () =>
            {
                if (!canNotify)
                {
                    throw new OperationException("This server runs over stateless HTTP, which cannot send a notification after a request ends: "
                        + "read the resource again to see changes, or run the server over stdio to subscribe.");
                }
                await Subscriptions(request).SubscribeAsync(request.Server, request.Params?.Uri, ct);
                return new EmptyResult();
            }))
            .WithUnsubscribeFromResourcesHandler((request, _) => Mapped(request, async () =>
            {
                if (canNotify)
                    await Subscriptions(request).UnsubscribeAsync(request.Params?.Uri);
                return new EmptyResult();
            }))
            // The SDK's own subscriptions/listen would grant resource subscriptions (subscribe is advertised) and never
            // deliver one; this one watches them. Over stateless HTTP it grants none, as subscribe is not advertised there.
            .WithSubscriptionsListenHandler((request, ct) => Mapped(request, async () =>
            {
                var uris = canNotify ? request.Params?.Notifications?.ResourceSubscriptions ?? [] : [];
                await Subscriptions(request).ListenAsync(request.Server, request.JsonRpcRequest.Id, uris, ct);
                return new EmptyResult();
            }));
        // Said outright, after the handlers: registering a subscribe handler advertises subscribe, and over HTTP that one only refuses.
        services.Configure<McpServerOptions>(options =>
        {
            options.Capabilities ??= new ServerCapabilities();
            options.Capabilities.Resources ??= new ResourcesCapability();
            options.Capabilities.Resources.Subscribe = canNotify;
        });
        return builder.WithCataloguedTools<ResourceTools>(ToolJson.Options, settings.FullOutputSchemas);
    }

    private static ResourceReader Reader<T>(RequestContext<T> request) => Service<ResourceReader, T>(request);

    private static ResourceSubscriptions Subscriptions<T>(RequestContext<T> request) => Service<ResourceSubscriptions, T>(request);

    private static TService Service<TService, T>(RequestContext<T> request) where TService : notnull =>
        (request.Services ?? throw new InvalidOperationException("The request has no services.")).GetRequiredService<TService>();

    /// <summary>
    /// Expected failures (an argument, a rule of the server, what the storage found) become a JSON-RPC error carrying
    /// their message (invalid params), logged as one line; the tools map the same failures in <see cref="ToolCallFilter"/>.
    /// </summary>
    private static async ValueTask<TResult> Mapped<TParams, TResult>(RequestContext<TParams> request, Func<Task<TResult>> handle)
    {
        string message;
        try
        {
            return await handle();
        }
        catch (OperationException e)
        {
            message = e.Message;
        }
        catch (StorageException e)
        {
            message = ErrorDetails.MessageWithDetails(e);
        }
        catch (Quilt.Packages.PackageException e)
        {
            message = e.Message;
        }
        catch (FormatException e) when (e is Quilt.Core.InvalidNameException or Quilt.Core.Manifests.ManifestFormatException)
        {
            message = e.Message;
        }
        var logger = request.Services?.GetService<ILoggerFactory>()?.CreateLogger("quilt-mcp");
        if (logger?.IsEnabled(LogLevel.Information) == true)
            logger.LogInformation("{Method}: {Message}", request.JsonRpcRequest.Method, message);
        throw new McpProtocolException(message, McpErrorCode.InvalidParams);
    }
}
