using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.Services;

/// <summary>
/// Audits requests refused before any user is known (a missing or bad token, a part URL with a wrong secret) without
/// letting anyone flood the trail: per client address (an IPv6 address
/// by its /64, as one host usually holds a whole /64) and minute, the first <see cref="AuditOptions.RefusalsPerMinute"/>
/// refusals get a line each (of bounded size, see <see cref="AuditLog.AnonymousRefusedAsync"/>); the rest are only
/// counted, and one line per client and minute says how many there were.
/// </summary>
public sealed class RefusalAudit(AuditLog audit, GatewayOptions options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Beyond this many addresses in one minute, new ones share one budget: memory stays bounded under a spread-out flood.
    private const int MaxTrackedClients = 10_000;
    private const string OtherClients = "other";

    private readonly ConcurrentDictionary<string, ClientWindow> _clients = new(StringComparer.Ordinal);

    /// <summary>
    /// Records one refusal of <paramref name="action"/> ("token" for the token check); true when it got its own audit
    /// line, false when it was only counted. All anonymous refusals of one client share one budget.
    /// </summary>
    public async Task<bool> RecordAsync(string action, string? claimedSubject, string reason, IPAddress? client, string? path, CancellationToken cancellationToken)
    {
        var address = client?.ToString();
        var key = ClientKey(client);
        if (!_clients.ContainsKey(key) && _clients.Count >= MaxTrackedClients)
            key = OtherClients;
        var now = time.GetUtcNow();
        bool record;
        CountedRefusals? ended;
        while (true)
        {
            var window = _clients.GetOrAdd(key, _ => new ClientWindow(now));
            lock (window)
            {
                if (window.Removed)
                    continue;
                ended = window.RollOver(key, now);
                record = window.Take(options.Audit.RefusalsPerMinute);
            }
            break;
        }
        if (ended is not null)
            await WriteCountAsync(ended, cancellationToken).ConfigureAwait(false);
        if (record)
            await audit.AnonymousRefusedAsync(action, claimedSubject, reason, address, path, cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <summary>Writes the counts of minutes that are over and forgets clients that went quiet (the sweeper calls this).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var (key, window) in _clients)
        {
            CountedRefusals? ended;
            lock (window)
            {
                if (!window.IsOver(now))
                    continue;
                ended = window.RollOver(key, now);
                // A minute over with nothing left to count: the client went quiet.
                if (ended is null)
                {
                    window.Removed = true;
                    _clients.TryRemove(new KeyValuePair<string, ClientWindow>(key, window));
                }
            }
            if (ended is not null)
                await WriteCountAsync(ended, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task WriteCountAsync(CountedRefusals counted, CancellationToken cancellationToken)
    {
        var limit = options.Audit.RefusalsPerMinute;
        var who = counted.Client == OtherClients ? "clients beyond the tracked ones" : "this client";
        var reason = $"{counted.Count} more requests from {who} were refused between {counted.From:O} and {counted.Until:O}; " +
            $"past {limit} a minute (audit.refusalsPerMinute) refusals are counted, not recorded one by one";
        return audit.WriteAsync("anonymous", null, "token", null, Data.AuditOutcome.Denied,
            Data.SqlGatewayStore.Details(("reason", reason), ("refusedNotRecorded", counted.Count), ("from", counted.From), ("until", counted.Until)),
            counted.Client, cancellationToken);
    }

    /// <summary>The address a budget belongs to: IPv4 as it is, IPv6 by its first 64 bits.</summary>
    internal static string ClientKey(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private sealed record CountedRefusals(string Client, DateTimeOffset From, DateTimeOffset Until, long Count);

    /// <summary>One client's current minute: how many refusals got a line and how many were only counted. Guarded by its own lock.</summary>
    private sealed class ClientWindow(DateTimeOffset start)
    {
        private DateTimeOffset _start = start;
        private int _recorded;
        private long _counted;

        public bool Removed { get; set; }

        /// <summary>Starts a new minute when the current one is over; returns what the old one counted, if anything.</summary>
        public bool IsOver(DateTimeOffset now) => now - _start >= Window;

        public CountedRefusals? RollOver(string client, DateTimeOffset now)
        {
            if (!IsOver(now))
                return null;
            var ended = _counted > 0 ? new CountedRefusals(client, _start, _start + Window, _counted) : null;
            _start = now;
            _recorded = 0;
            _counted = 0;
            return ended;
        }

        /// <summary>True when the refusal may have its own line; otherwise it is counted.</summary>
        public bool Take(int limit)
        {
            if (_recorded < limit)
            {
                _recorded++;
                return true;
            }
            _counted++;
            return false;
        }

    }
}
