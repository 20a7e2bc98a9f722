using System.Collections.Concurrent;
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
/// per interval, and notifications/resources/updated goes out when it differs. Bounded: at most
/// <see cref="MaxSubscriptions"/> at once; unsubscribe, a failed notification or the end of the session stops a watch.
/// </summary>
public sealed class ResourceSubscriptions(ResourceReader reader, ResourceSubscriptionOptions options, ILogger<ResourceSubscriptions> logger) : IAsyncDisposable
{
    public const int MaxSubscriptions = 32;

    private readonly ConcurrentDictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The URIs watched now.</summary>
    public IReadOnlyCollection<string> Watched => [.. _watches.Keys];

    /// <summary>Starts watching <paramref name="uri"/> for <paramref name="server"/>'s client; subscribing again to the same URI changes nothing.</summary>
    public async Task SubscribeAsync(McpServer server, string? uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var text = ObjectUriResolver.Require(uri, "uri");
        // The first look checks the URI (its names, the bucket policy, that it can change) before anything is kept.
        var mark = await reader.ChangeMarkAsync(text, cancellationToken);
        lock (_gate)
        {
            if (_watches.ContainsKey(text))
                return;
            if (_watches.Count >= MaxSubscriptions)
            {
                throw new OperationException($"This session already watches {MaxSubscriptions} resources, the most it may. "
                    + "Unsubscribe from one (resources/unsubscribe) before subscribing to another.");
            }
            var watch = new Watch(CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
            var token = watch.Cancel.Token;
            watch.Loop = Task.Run(() => PollAsync(server, text, mark, token), CancellationToken.None);
            _watches[text] = watch;
        }
    }

    /// <summary>Stops watching <paramref name="uri"/>; unsubscribing from what is not watched is not an error.</summary>
    public async Task UnsubscribeAsync(string? uri)
    {
        var text = ObjectUriResolver.Require(uri, "uri");
        if (_watches.TryRemove(text, out var watch))
            await watch.StopAsync();
    }

    private async Task PollAsync(McpServer server, string uri, string mark, CancellationToken cancellationToken)
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
                await server.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, new ResourceUpdatedNotificationParams { Uri = uri },
                    McpJsonUtilities.DefaultOptions, cancellationToken);
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
            if (_watches.TryGetValue(uri, out var watch) && watch.Cancel.Token == cancellationToken)
                _watches.TryRemove(uri, out _);
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
