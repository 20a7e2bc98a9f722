namespace Quilt.Operations;

/// <summary>
/// An operation refused or failed in a way the user can fix: the message says what was wrong and what to do next, and
/// names the argument it concerns. Every front end shows it as it is (an MCP tool error, "error: …" on the command line).
/// </summary>
public class OperationException : Exception
{
    public OperationException(string message) : base(message) { }

    public OperationException(string message, Exception inner) : base(message, inner) { }
}
