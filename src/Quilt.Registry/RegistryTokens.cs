namespace Quilt.Registry;

/// <summary>Where the bearer token of the current request comes from: one token for a process, or the caller's own per request.</summary>
public interface IRegistryTokenSource
{
    /// <summary>The token to send, or null when there is none (the registry will then answer 401).</summary>
    string? Token { get; }
}

/// <summary>One token for everything this process does (registry mode over stdio, the command line).</summary>
public sealed class FixedRegistryToken : IRegistryTokenSource
{
    public FixedRegistryToken(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        Token = token.Trim();
    }

    public string? Token { get; }

    // Never shows the token itself.
    public override string ToString() => "FixedRegistryToken(***)";
}

/// <summary>
/// The token of the request being served, set for the duration of that request (Streamable HTTP: each caller's own
/// Authorization header), carried along async calls.
/// </summary>
public sealed class AmbientRegistryToken : IRegistryTokenSource
{
    private static readonly AsyncLocal<string?> Current = new();

    public string? Token => Current.Value;

    /// <summary>Makes <paramref name="token"/> the current one until the returned scope is disposed.</summary>
    public static IDisposable Use(string? token)
    {
        var previous = Current.Value;
        Current.Value = token;
        return new Restore(previous);
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
