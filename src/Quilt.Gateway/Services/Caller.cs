using Quilt.Gateway.Identity;

namespace Quilt.Gateway.Services;

/// <summary>The verified user of one request and the role it acts as.</summary>
public sealed record Caller(GatewayUser User, string Role, string? ClientAddress)
{
    public string Subject => User.Subject;
}

/// <summary>
/// An expected refusal or bad input, with a message fit to show the caller (what went wrong, what to do).
/// <see cref="Code"/> is FORBIDDEN, BAD_REQUEST, NOT_FOUND or CONFLICT; <see cref="Path"/> names the offending input.
/// </summary>
public sealed class GatewayException(string code, string message, string? path = null) : Exception(message)
{
    public const string Forbidden = "FORBIDDEN";
    public const string BadRequest = "BAD_REQUEST";
    public const string NotFound = "NOT_FOUND";
    public const string Conflict = "CONFLICT";

    public string Code { get; } = code;
    public string? Path { get; } = path;

    public static GatewayException Denied(string message, string? path = null) => new(Forbidden, message, path);
    public static GatewayException Invalid(string message, string? path = null) => new(BadRequest, message, path);
    public static GatewayException Missing(string message, string? path = null) => new(NotFound, message, path);
}
