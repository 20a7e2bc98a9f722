namespace Quilt.Packages.Workflows;

/// <summary>
/// Which workflow a new revision asks for, as quilt3's <c>workflow=</c> argument and the registry's
/// <c>PackagePushParams.workflow</c> say it: not given (the config's default_workflow), explicitly none, or a name.
/// </summary>
public sealed record WorkflowChoice
{
    private WorkflowChoice(string? name, bool isDefault)
    {
        Name = name;
        IsDefault = isDefault;
    }

    /// <summary>Not given: the registry's default_workflow, if its config has one (quilt3's <c>...</c>).</summary>
    public static WorkflowChoice Default { get; } = new(null, isDefault: true);

    /// <summary>Explicitly no workflow (quilt3's <c>workflow=None</c>; the registry's empty string).</summary>
    public static WorkflowChoice None { get; } = new(null, isDefault: false);

    public static WorkflowChoice Named(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(name, isDefault: false);
    }

    /// <summary>
    /// The spelling the CLI, the MCP tools and Quilt's packageConstruct share: null → <see cref="Default"/>, "" →
    /// <see cref="None"/>, anything else the workflow's name.
    /// </summary>
    public static WorkflowChoice Parse(string? text) => text switch
    {
        null => Default,
        "" => None,
        _ => Named(text),
    };

    /// <summary>The workflow's name when one is named.</summary>
    public string? Name { get; }

    public bool IsDefault { get; }

    public bool IsNone => !IsDefault && Name is null;

    /// <summary>How quilt3 prints the choice in "… workflow is specified" (repr of the name, or None).</summary>
    internal string PythonRepr => Name is null ? "None" : Workflows.PythonRepr.String(Name);
}
