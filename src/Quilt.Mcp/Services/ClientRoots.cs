// Roots and logging are deprecated from protocol revision 2026-07-28 (SEP-2577); the clients this server serves speak
// 2025-11-25 and earlier, where they are how a client shares folders and takes log messages.
#pragma warning disable MCP9005
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Quilt.Operations;

namespace Quilt.Mcp.Services;

/// <summary>
/// The client's roots as <see cref="ILocalRoots"/>: when the client declares the roots capability, local paths must lie
/// under one of its file:// roots. Asked once (roots/list) and again after notifications/roots/list_changed. A client
/// without the capability, and any client over stateless HTTP (the server cannot send it a request), sets no limit.
/// </summary>
/// <remarks>One service container serves one session over stdio (the only transport that can ask), so one cache serves it.</remarks>
internal sealed class ClientRoots(IServiceProvider services) : ILocalRoots
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private Task<IReadOnlyList<string>>? _roots;

    public async ValueTask<IReadOnlyList<string>?> GetAsync(CancellationToken cancellationToken)
    {
        if (Hosting.HonestCapabilities.StatelessHttp.In(services) || CallScope.Current is not { } call || call.Server.ClientCapabilities?.Roots is null)
            return null;
        Task<IReadOnlyList<string>> roots;
        lock (_lock)
            roots = _roots ??= AskAsync(call.Server);
        try
        {
            return await roots.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is McpException or TimeoutException or OperationCanceledException or IOException or InvalidOperationException
            && !cancellationToken.IsCancellationRequested)
        {
            Forget(roots);
            throw new OperationException($"The client declares roots but did not list them ({e.Message}), so no local path can be checked. "
                + "Nothing was done; try again, or send the content inline.", e);
        }
    }

    /// <summary>The client's roots changed: the next check asks again.</summary>
    public void Invalidate()
    {
        lock (_lock)
            _roots = null;
    }

    private void Forget(Task<IReadOnlyList<string>> failed)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_roots, failed))
                _roots = null;
        }
    }

    private static async Task<IReadOnlyList<string>> AskAsync(ModelContextProtocol.Server.McpServer server)
    {
        using var timeout = new CancellationTokenSource(AnswerTimeout);
        ListRootsResult result;
        try
        {
            result = await server.RequestRootsAsync(new ListRootsRequestParams(), timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer to roots/list within {AnswerTimeout.TotalSeconds:N0} s");
        }
        // Only file:// roots name folders on this machine; any other kind allows no local path.
        return result.Roots
            .Select(r => Uri.TryCreate(r.Uri, UriKind.Absolute, out var uri) && uri.IsFile ? Path.GetFullPath(uri.LocalPath) : null)
            .OfType<string>()
            .ToList();
    }
}
