using System.Text.Json.Nodes;

namespace Quilt.Storage;

/// <summary>
/// An error that carries structured details for a program to act on (what failed, why, the workarounds, the backend
/// feature that would unblock it), after its sentence for a person. Front ends show them without knowing the error's type.
/// </summary>
public interface IErrorDetails
{
    JsonObject Details { get; }
}

public static class ErrorDetails
{
    /// <summary>"\n" and the details as one line of JSON when <paramref name="error"/> carries them (see <see cref="IErrorDetails"/>), else "".</summary>
    public static string Suffix(Exception error) => error is IErrorDetails { Details: { } details } ? "\n" + details.ToJsonString() : "";

    /// <summary>The message, then the details (see <see cref="Suffix"/>): what a tool error or the command line shows.</summary>
    public static string MessageWithDetails(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Message + Suffix(error);
    }
}
