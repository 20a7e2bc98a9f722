namespace Quilt.Operations.Models;

/// <summary>The innermost items of this (nested) array property may be null: its output schema says so.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NullableCellsAttribute : Attribute;
