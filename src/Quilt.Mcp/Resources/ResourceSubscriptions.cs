using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Mcp.Resources;

/// <summary>How often subscribed resources are looked at.</summary>
public sealed record ResourceSubscriptionOptions
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;
}

/// <summary>
/// resources/subscribe by polling: neither a local folder nor S3 tells anyone when an object or a package's latest
/// pointer changes, so each subscribed resource's state (<see cref="ResourceReader.ChangeMarkAsync"/>) is looked at once
/// per interval, and notifications/resources/updated goes out when it differs. Clients subscribe with resources/subscribe
/// (protocol 2025-11-25 and earlier) or subscriptions/listen (2026-07-28). Bounded: at most <see cref="MaxSubscriptions"/>
/// at once; unsubscribe, the end of the listen request, a failed notification or the end of the session stops a watch.
/// </summary>
public sealed class ResourceSubscriptions(ResourceReader reader, ResourceSubscriptionOptions options, ILogger<ResourceSubscriptions> logger) : IAsyncDisposable
{
    public const int MaxSubscriptions = 32;

    private readonly ConcurrentDictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>What is watched now: each URI resources/subscribe gave, and "listen:ID:URI" for each of a subscriptions/listen request.</summary>
    public IReadOnlyCollection<string> Watched => [.. _watches.Keys];

    /// <summary>Starts watching <paramref name="uri"/> for <paramref name="server"/>'s client (resources/subscribe); subscribing again to the same URI changes nothing.</summary>
    public async Task SubscribeAsync(McpServer server, string? uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var text = ObjectUriResolver.Require(uri, "uri");
        await WatchAsync(text, text, ct => server.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification,
            new ResourceUpdatedNotificationParams { Uri = text }, McpJsonUtilities.DefaultOptions, ct), cancellationToken);
    }

    /// <summary>Stops watching <paramref name="uri"/> (resources/unsubscribe); unsubscribing from what is not watched is not an error.</summary>
    public async Task UnsubscribeAsync(string? uri) => await StopAsync(ObjectUriResolver.Require(uri, "uri"));

    /// <summary>
    /// subscriptions/listen (protocol 2026-07-28): watches each resource that can be watched, acknowledges those (and
    /// only those: no list ever changes while this server runs, so no list_changed is granted), sends their updates
    /// tagged with the listen request's id, and stops them when the request ends.
    /// </summary>
    public async Task ListenAsync(McpServer server, RequestId listenId, IEnumerable<string> uris, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(uris);
        // Every notification of a listen stream carries the request's id, so a client sharing one channel can tell them apart.
        JsonObject Tagged(JsonObject? parameters)
        {
            parameters ??= [];
            parameters["_meta"] = new JsonObject
            {
                [MetaKeys.SubscriptionId] = listenId.Id switch { string text => JsonValue.Create(text), long number => JsonValue.Create(number), _ => null },
            };
            return parameters;
        }
        Task SendAsync(string method, JsonObject parameters, CancellationToken ct) =>
            server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = Tagged(parameters) }, ct);
        var granted = new List<string>();
        var keys = new List<string>();
        try
        {
            foreach (var uri in uris.Where(u => !string.IsNullOrWhiteSpace(u)).Distinct(StringComparer.Ordinal))
            {
                var key = $"listen:{listenId}:{uri}";
                try
                {
                    await WatchAsync(key, uri, ct => SendAsync(NotificationMethods.ResourceUpdatedNotification, new JsonObject { ["uri"] = uri }, ct),
                        cancellationToken);
                }
                catch (Exception e) when (e is OperationException or StorageException or PackageException or FormatException)
                {
                    // Not granted: the acknowledgement lists only what is watched.
                    if (logger.IsEnabled(LogLevel.Information))
                        logger.LogInformation("subscriptions/listen: not watching {Uri}: {Message}", uri, e.Message);
                    continue;
                }
                keys.Add(key);
                granted.Add(uri);
            }
            var acknowledged = new SubscriptionsAcknowledgedNotificationParams
            {
                Notifications = new SubscriptionsListenNotifications { ResourceSubscriptions = granted.Count == 0 ? null : granted },
            };
            var ackType = (JsonTypeInfo<SubscriptionsAcknowledgedNotificationParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(SubscriptionsAcknowledgedNotificationParams));
            await SendAsync(NotificationMethods.SubscriptionsAcknowledgedNotification, (JsonObject)JsonSerializer.SerializeToNode(acknowledged, ackType)!, cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client ended the listen request (or the session ended).
        }
        finally
        {
            foreach (var key in keys)
                await StopAsync(key);
        }
    }

    private async Task WatchAsync(string key, string uri, Func<CancellationToken, Task> notify, CancellationToken cancellationToken)
    {
        // The first look checks the URI (its names, the bucket policy, that it can change) before anything is kept.
        var mark = await reader.ChangeMarkAsync(uri, cancellationToken);
        lock (_gate)
        {
            if (_watches.ContainsKey(key))
                return;
            if (_watches.Count >= MaxSubscriptions)
            {
                throw new OperationException($"This session already watches {MaxSubscriptions} resources, the most it may. "
                    + "Unsubscribe from one (resources/unsubscribe) before subscribing to another.");
            }
            var watch = new Watch(CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
            var token = watch.Cancel.Token;
            watch.Loop = Task.Run(() => PollAsync(key, uri, mark, notify, token), CancellationToken.None);
            _watches[key] = watch;
        }
    }

    private async Task StopAsync(string key)
    {
        if (_watches.TryRemove(key, out var watch))
            await watch.StopAsync();
    }

    private async Task PollAsync(string key, string uri, string mark, Func<CancellationToken, Task> notify, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                string now;
                try
                {
                    now = await reader.ChangeMarkAsync(uri, cancellationToken);
                }
                catch (Exception e) when (e is OperationException or StorageException or PackageException or FormatException)
                {
                    // A look that failed (the network, a moment's refusal) says nothing about a change: look again next time.
                    if (logger.IsEnabled(LogLevel.Debug))
                        logger.LogDebug("Could not look at subscribed {Uri}: {Message}", uri, e.Message);
                    continue;
                }
                if (now == mark)
                    continue;
                mark = now;
                await notify(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The session is gone: nobody is left to tell.
            if (logger.IsEnabled(LogLevel.Debug))
                logger.LogDebug("Stopped watching {Uri}: {Message}", uri, e.Message);
            if (_watches.TryGetValue(key, out var watch) && watch.Cancel.Token == cancellationToken)
                _watches.TryRemove(key, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var uri in _watches.Keys)
        {
            if (_watches.TryRemove(uri, out var watch))
                await watch.StopAsync();
        }
        _stopping.Dispose();
    }

    private sealed class Watch(CancellationTokenSource cancel)
    {
        public CancellationTokenSource Cancel { get; } = cancel;

        public Task Loop { get; set; } = Task.CompletedTask;

        public async Task StopAsync()
        {
            await Cancel.CancelAsync();
            await Loop;
            Cancel.Dispose();
        }
    }
}
