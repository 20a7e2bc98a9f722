namespace Quilt.Packages.Workflows;

/// <summary>
/// A revision the registry's workflows refuse, or a workflows config (or schema) that cannot be used. The message carries
/// quilt3's meaning (its own wording where it has one) and what to do; nothing was published.
/// </summary>
public sealed class WorkflowException : PackageException
{
    public WorkflowException(string message) : base(message) { }
    public WorkflowException(string message, Exception inner) : base(message, inner) { }

    /// <summary>True when the revision failed the workflow's rules (message, name, metadata, entries); false when the config or a schema is at fault.</summary>
    public bool IsValidationFailure { get; init; }
}
